/**
 * Hostile clients: bad upgrades and RFC 6455 violations on raw sockets. Each
 * test also checks that a well-behaved bystander is still served afterwards.
 * (Handshake trickle, garbage, oversize and non-reading clients are in
 * test/e2e/access.test.ts and test/e2e/backpressure.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';
import { frame, RawClient, rawHttp } from '../support/raw-client.js';

afterEach(stopAllSidecars);

const UPGRADE_LINES = ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade'];
const KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';

function request(lines: string[]): string {
  return [...lines, '', ''].join('\r\n');
}

/** Opens a raw client and learns the id the host got for it. */
async function openRaw(started: Started, extraHeaders: string[] = []): Promise<{ raw: RawClient; id: number }> {
  const seen = new Map<number, number>();
  const onConnected = (id: number, info: { port: number }): void => void seen.set(info.port, id);
  started.host.on('connected', onConnected);
  try {
    const raw = await RawClient.open(started.listening.port, extraHeaders);
    const port = raw.socket.localPort!;
    await until(() => seen.has(port), `the host to announce the raw client on port ${port}`);
    return { raw, id: seen.get(port)! };
  } finally {
    started.host.off('connected', onConnected);
  }
}

/** A normal client that is served before and after the hostile one. */
async function bystander(started: Started): Promise<() => Promise<void>> {
  const { client, id } = await connect(started);
  let n = 0;
  const check = async (): Promise<void> => {
    const text = `still served ${n++}`;
    started.host.sendText(id, text);
    await until(() => client.texts.includes(text), 'the bystander to be served');
  };
  await check();
  return check;
}

describe('bad upgrades get the right HTTP status', () => {
  it.each<[string, { auth?: boolean }]>([
    ['plain', {}],
    ['auth', { auth: true }],
  ])('wrong Sec-WebSocket-Version (%s mode): 400 naming the versions spoken, no connection request', async (_mode, options) => {
    const started = await startSidecar(options);
    const stillServed = options.auth ? undefined : await bystander(started);
    let requests = 0;
    started.host.on('connectionRequested', () => requests++);
    const reply = await rawHttp(started.listening.port, request([...UPGRADE_LINES, KEY, 'Sec-WebSocket-Version: 12']));
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/\r\nSec-WebSocket-Version: 13, 8\r\n/i);
    expect(requests).toBe(0);
    expect((await started.host.stats()).clients).toBe(options.auth ? 0 : 1);
    await stillServed?.();
  });

  it('missing Sec-WebSocket-Key: 400', async () => {
    const started = await startSidecar();
    const stillServed = await bystander(started);
    const reply = await rawHttp(started.listening.port, request([...UPGRADE_LINES, 'Sec-WebSocket-Version: 13']));
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    const badKey = await rawHttp(started.listening.port, request([...UPGRADE_LINES, 'Sec-WebSocket-Key: short', 'Sec-WebSocket-Version: 13']));
    expect(badKey).toMatch(/^HTTP\/1\.1 400 /);
    await stillServed();
  });

  it('a POST upgrade: 405', async () => {
    const started = await startSidecar();
    const reply = await rawHttp(started.listening.port, request(['POST / HTTP/1.1', ...UPGRADE_LINES.slice(1), KEY, 'Sec-WebSocket-Version: 13']));
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
  });
});

describe('RFC 6455 violations close the client with the matching code', () => {
  async function expectViolation(bytes: Buffer, code: number): Promise<void> {
    const started = await startSidecar();
    const stillServed = await bystander(started);
    const { raw, id } = await openRaw(started);
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected', (gone) => gone === id);
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported', (_code, _message, client) => client === id);
    raw.send(bytes);
    expect(await raw.closeCode()).toBe(code);
    const [, reportedCode] = await disconnected;
    expect(reportedCode).toBe(code);
    const [errorCode, message] = await error;
    expect(errorCode).toBe('client_protocol_error');
    expect(message).toContain(`closed with ${code}`);
    await until(() => raw.ended, 'the hostile socket to be closed');
    await stillServed();
  }

  it('invalid UTF-8 in a text message → 1007, reported as client_protocol_error', async () => {
    await expectViolation(frame(1, Buffer.from([0x68, 0x69, 0xff, 0xfe])), 1007);
  });

  it('an overlong UTF-8 encoding and a lone surrogate → 1007', async () => {
    await expectViolation(frame(1, Buffer.from([0xc0, 0xaf])), 1007);
    await expectViolation(frame(1, Buffer.from([0xed, 0xa0, 0x80])), 1007);
  });

  it('an unmasked client frame → 1002', async () => {
    await expectViolation(frame(1, 'not masked', { mask: false }), 1002);
  });

  it.each([3, 7, 0xb, 0xf])('reserved opcode %i → 1002', async (opcode) => {
    await expectViolation(frame(opcode, 'x'), 1002);
  });

  it.each([
    ['RSV1 (no extension negotiated)', 4],
    ['RSV2', 2],
    ['RSV3', 1],
  ])('%s set → 1002', async (_name, rsv) => {
    await expectViolation(frame(1, 'x', { rsv }), 1002);
  });
});
