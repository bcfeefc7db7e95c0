/**
 * RFC 6455 conformance on hand-made frames, in the normal suite. The full
 * Autobahn|Testsuite run (cases 1-13) needs Python 2.7 and is run by hand with
 * test/hardening/autobahn/run.sh; these tests keep the same ground covered on
 * every run: framing, control frames, fragmentation, UTF-8 (a codepoint split
 * across fragments included), the closing handshake and permessage-deflate.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartOptions } from '../../protocol/messages.js';
import { nextEvent, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';
import { closePayload, frame, RawClient } from '../support/raw-client.js';

// One echo server per describe where tests cannot see each other's events; one per test otherwise.
afterAll(stopAllSidecars);

const TEXT = 1;
const BINARY = 2;
const CONTINUATION = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

let started: Started;

async function echoServer(options: StartOptions = {}): Promise<Started> {
  const s = await startSidecar(options);
  s.host.on('text', (id, text) => s.host.sendText(id, text));
  s.host.on('binary', (id, data) => s.host.sendBinary(id, data));
  return s;
}

async function open(extraHeaders: string[] = []): Promise<RawClient> {
  return RawClient.open(started.listening.port, extraHeaders);
}

/** Waits for the n-th data frame from the server and returns its payload. */
async function nthData(raw: RawClient, n: number): Promise<Buffer> {
  await until(() => raw.dataFrames().length >= n, `data frame ${n} from the server`);
  return raw.dataFrames()[n - 1]!.payload;
}

async function expectClose(bytes: Buffer[], code: number, extraHeaders: string[] = []): Promise<void> {
  const raw = await open(extraHeaders);
  raw.send(...bytes);
  expect(await raw.closeCode()).toBe(code);
  await until(() => raw.ended, 'the server to end the connection');
}

describe('framing', () => {
  beforeAll(async () => {
    started = await echoServer({ max_message_size: 2 * 1024 * 1024 });
  });

  it.each([0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024])('echoes a %i-byte text and binary message (every length encoding)', async (length) => {
    const raw = await open();
    const text = Buffer.alloc(length, 0x2a);
    const binary = Buffer.alloc(length, 0xfe);
    raw.send(frame(TEXT, text), frame(BINARY, binary));
    expect((await nthData(raw, 1)).equals(text)).toBe(true);
    expect((await nthData(raw, 2)).equals(binary)).toBe(true);
    expect(raw.dataFrames().map((f) => [f.opcode, f.fin, f.rsv])).toEqual([
      [TEXT, true, 0],
      [BINARY, true, 0],
    ]);
  });

  it('takes a frame delivered one byte per write', async () => {
    const raw = await open();
    const bytes = frame(TEXT, 'byte by byte');
    for (const byte of bytes) {
      raw.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await nthData(raw, 1)).toString()).toBe('byte by byte');
  });
});

describe('control frames', () => {
  beforeAll(async () => {
    started = await echoServer();
  });

  it('answers a ping with a pong carrying the same payload (0 and 125 bytes)', async () => {
    const raw = await open();
    const payload = Buffer.alloc(125, 0x70);
    raw.send(frame(PING), frame(PING, payload));
    await until(() => raw.frames.filter((f) => f.opcode === PONG).length === 2, 'two pongs');
    const pongs = raw.frames.filter((f) => f.opcode === PONG);
    expect(pongs[0]!.payload.length).toBe(0);
    expect(pongs[1]!.payload.equals(payload)).toBe(true);
  });

  it('ignores an unsolicited pong', async () => {
    const raw = await open();
    raw.send(frame(PONG, 'unasked'), frame(TEXT, 'after'));
    expect((await nthData(raw, 1)).toString()).toBe('after');
  });

  it('a control frame with a 126-byte payload → 1002', async () => {
    await expectClose([frame(PING, Buffer.alloc(126))], 1002);
  });

  it('a fragmented control frame → 1002', async () => {
    await expectClose([frame(PING, 'part', { fin: false })], 1002);
  });
});

describe('fragmentation', () => {
  beforeAll(async () => {
    started = await echoServer();
  });

  it('reassembles fragments with control frames interleaved, answering the ping in between', async () => {
    const raw = await open();
    raw.send(frame(TEXT, 'Hello, ', { fin: false }), frame(PING, 'mid'), frame(CONTINUATION, 'frag', { fin: false }), frame(PONG, 'x'), frame(CONTINUATION, 'mented!'));
    expect((await nthData(raw, 1)).toString()).toBe('Hello, fragmented!');
    const pong = raw.frames.find((f) => f.opcode === PONG);
    expect(pong?.payload.toString()).toBe('mid');
    // The pong went out before the echo: it did not wait for the message to end.
    expect(raw.frames.findIndex((f) => f.opcode === PONG)).toBeLessThan(raw.frames.findIndex((f) => f.opcode === TEXT));
  });

  it('reassembles a binary message from empty and non-empty fragments', async () => {
    const raw = await open();
    raw.send(frame(BINARY, Buffer.alloc(0), { fin: false }), frame(CONTINUATION, Buffer.from([1, 2]), { fin: false }), frame(CONTINUATION, Buffer.alloc(0), { fin: false }), frame(CONTINUATION, Buffer.from([3])));
    expect([...(await nthData(raw, 1))]).toEqual([1, 2, 3]);
  });

  it('a continuation frame with no message started → 1002', async () => {
    await expectClose([frame(CONTINUATION, 'orphan')], 1002);
  });

  it('a new data frame while a fragmented message is open → 1002', async () => {
    await expectClose([frame(TEXT, 'first ', { fin: false }), frame(TEXT, 'second')], 1002);
  });

  it('more fragments than ws allows in one message (16,384) → 1008, reported to the host', async () => {
    const raw = await open();
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported', (_code, message) => /fragments/.test(message));
    const parts = [frame(BINARY, Buffer.from([0]), { fin: false })];
    for (let i = 0; i < 16_400; i++) parts.push(frame(CONTINUATION, Buffer.from([i & 0xff]), { fin: false }));
    raw.send(...parts);
    expect(await raw.closeCode(10_000)).toBe(1008);
    const [code, message] = await error;
    expect(code).toBe('client_protocol_error');
    expect(message).toMatch(/Too many message fragments/);
  });
});

describe('UTF-8', () => {
  beforeAll(async () => {
    started = await echoServer();
  });

  it('passes valid multi-byte text through unchanged, both ways', async () => {
    const raw = await open();
    const text = 'κόσμε · 中文 · 😀 · \u{10FFFF} · \u0000';
    const seen = nextEvent<[number, string]>(started.host, 'text');
    raw.send(frame(TEXT, text));
    expect((await seen)[1]).toBe(text);
    expect((await nthData(raw, 1)).toString('utf8')).toBe(text);
  });

  it('accepts a codepoint split across fragments (€ = E2 82 AC, and a 4-byte emoji)', async () => {
    const raw = await open();
    raw.send(frame(TEXT, Buffer.from([0xe2]), { fin: false }), frame(CONTINUATION, Buffer.from([0x82]), { fin: false }), frame(CONTINUATION, Buffer.from([0xac])));
    expect((await nthData(raw, 1)).toString('utf8')).toBe('€');
    const emoji = Buffer.from('😀');
    raw.send(frame(TEXT, emoji.subarray(0, 3), { fin: false }), frame(CONTINUATION, emoji.subarray(3)));
    expect((await nthData(raw, 2)).toString('utf8')).toBe('😀');
  });

  it.each([
    ['a codepoint above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a UTF-16 surrogate', [0xed, 0xbf, 0xbf]],
    ['an overlong 2-byte form', [0xc1, 0xbf]],
    ['a sequence cut at the end of the message', [0x61, 0xe2, 0x82]],
    ['a lone continuation byte', [0x80]],
  ])('%s → 1007', async (_name, bytes) => {
    await expectClose([frame(TEXT, Buffer.from(bytes))], 1007);
  });

  it('invalid bytes in the middle of a fragmented message → 1007', async () => {
    await expectClose([frame(TEXT, 'ok so far ', { fin: false }), frame(CONTINUATION, Buffer.from([0xff]), { fin: false }), frame(CONTINUATION, 'end')], 1007);
  });
});

describe('closing handshake', () => {
  beforeEach(async () => {
    started = await echoServer();
  });
  afterEach(stopAllSidecars);

  it.each([1000, 1001, 1003, 1011, 3000, 4999])('echoes close code %i and reports it to the host, clean', async (code) => {
    const raw = await open();
    const gone = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    raw.send(frame(CLOSE, closePayload(code, 'bye')));
    expect(await raw.closeCode()).toBe(code);
    const [, reported, reason, clean] = await gone;
    expect([reported, reason, clean]).toEqual([code, 'bye', true]);
    await until(() => raw.ended, 'the server to close the TCP connection');
  });

  it('answers an empty close frame and reports 1005', async () => {
    const raw = await open();
    const gone = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    raw.send(frame(CLOSE));
    const close = await raw.closeFrame();
    expect(close).toBeDefined();
    expect((await gone).slice(1)).toEqual([1005, '', true]);
  });

  it('sends nothing after its close frame, even if the host still sends', async () => {
    const raw = await open();
    const gone = nextEvent<[number]>(started.host, 'disconnected');
    raw.send(frame(CLOSE, closePayload(1000)), frame(TEXT, 'after close'));
    await raw.closeFrame();
    await gone;
    await until(() => raw.ended, 'the end');
    expect(raw.frames.at(-1)!.opcode).toBe(CLOSE);
    expect(raw.dataFrames()).toEqual([]);
  });

  it.each([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('an invalid close code %i from the client → 1002', async (code) => {
    await expectClose([frame(CLOSE, closePayload(code))], 1002);
  });

  it('a 1-byte close payload → 1002', async () => {
    await expectClose([frame(CLOSE, Buffer.from([0x03]))], 1002);
  });

  it('a close reason that is not UTF-8 → 1007', async () => {
    await expectClose([frame(CLOSE, closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xff])))], 1007);
  });
});

describe('permessage-deflate', () => {
  afterEach(stopAllSidecars);
  // server_no_context_takeover: each reply can be inflated on its own, and ws's 256-byte
  // compression threshold applies (with context takeover ws compresses every message).
  const OFFER = ['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_max_window_bits'];

  /** A compressed message payload as RFC 7692 §7.2.1 sends it: deflate, minus the 00 00 FF FF tail. */
  function compress(data: Buffer): Buffer {
    const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
    return out.subarray(0, out.length - 4);
  }

  function decompress(data: Buffer): Buffer {
    return inflateRawSync(Buffer.concat([data, Buffer.from([0x00, 0x00, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
  }

  it('negotiates when enabled, takes compressed messages (whole and fragmented) and compresses large replies', async () => {
    started = await echoServer({ permessage_deflate: true });
    const raw = await open(OFFER);
    expect(raw.response).toMatch(/\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover/i);
    const text = 'compressible '.repeat(200);
    raw.send(frame(TEXT, compress(Buffer.from(text)), { rsv: 4 }));
    const reply = await until(() => raw.dataFrames().length >= 1, 'the echo').then(() => raw.dataFrames()[0]!);
    expect(reply.rsv).toBe(4); // RSV1: the reply is compressed
    expect(decompress(reply.payload).toString()).toBe(text);
    // RSV1 goes on the first fragment only.
    const body = compress(Buffer.from('fragmented and compressed'));
    raw.send(frame(TEXT, body.subarray(0, 5), { rsv: 4, fin: false }), frame(CONTINUATION, body.subarray(5)));
    const second = await until(() => raw.dataFrames().length >= 2, 'the second echo').then(() => raw.dataFrames()[1]!);
    expect([second.rsv, second.payload.toString()]).toEqual([0, 'fragmented and compressed']); // under the 256-byte threshold
    // Uncompressed messages are still fine on a deflate connection.
    raw.send(frame(TEXT, 'plain'));
    const third = await until(() => raw.dataFrames().length >= 3, 'the third echo').then(() => raw.dataFrames()[2]!);
    expect([third.rsv, third.payload.toString()]).toEqual([0, 'plain']);
  });

  it('is not negotiated when disabled, and RSV1 then → 1002', async () => {
    started = await echoServer();
    const raw = await open(OFFER);
    expect(raw.response).not.toMatch(/Sec-WebSocket-Extensions/i);
    raw.send(frame(TEXT, compress(Buffer.from('x')), { rsv: 4 }));
    expect(await raw.closeCode()).toBe(1002);
  });

  it('RSV1 on a continuation or control frame → 1002 even with deflate negotiated', async () => {
    started = await echoServer({ permessage_deflate: true });
    await expectClose([frame(TEXT, compress(Buffer.from('ab')), { rsv: 4, fin: false }), frame(CONTINUATION, Buffer.alloc(0), { rsv: 4 })], 1002, OFFER);
    await expectClose([frame(PING, 'p', { rsv: 4 })], 1002, OFFER);
  });

  it('corrupt compressed data → the client is closed and reported, others unaffected', async () => {
    started = await echoServer({ permessage_deflate: true });
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported');
    const raw = await open(OFFER);
    raw.send(frame(TEXT, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), { rsv: 4 }));
    const code = await raw.closeCode();
    expect([1002, 1007]).toContain(code);
    expect((await error)[0]).toBe('client_protocol_error');
    const other = await open(OFFER);
    other.send(frame(TEXT, 'still fine'));
    expect((await nthData(other, 1)).toString()).toBe('still fine');
  });
});
