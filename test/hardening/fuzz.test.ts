/**
 * Property-based fuzzing of the TypeScript stdio path with fast-check: the
 * FrameDecoder, command parsing and dispatch in-process, then the real sidecar
 * process fed random, truncated, oversized and wrongly typed frames in random
 * chunks. Never a crash or a hang; always a clear error: an `error` event per
 * bad frame, and exit code 2 with a stderr line for an impossible length.
 * (The GDScript decoder has its own seeded fuzz suite in godot-addon/tests.)
 *
 * Seeds are printed on failure by fast-check; FUZZ_RUNS scales the run counts.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost } from '../../host/sidecar-host.js';
import { Command, Event, LENGTH_PREFIX_BYTES, MAX_FRAME_LENGTH } from '../../protocol/constants.js';
import { encodeFrame, FrameDecoder, FrameLengthError } from '../../protocol/frame-codec.js';
import type { AnyEvent } from '../../protocol/messages.js';
import { packValue } from '../../protocol/msgpack.js';
import { CommandDispatcher } from '../../sidecar/command-dispatcher.js';
import { parseCommand } from '../../sidecar/command-parser.js';
import { RoomRegistry } from '../../sidecar/room-registry.js';
import type { SidecarServer } from '../../sidecar/sidecar-server.js';
import { until } from '../support/harness.js';

const SCALE = Number(process.env.FUZZ_RUNS ?? '1');
const running: SidecarHost[] = [];
afterEach(async () => {
  for (const host of running.splice(0)) {
    host.child.kill('SIGKILL');
    await host.waitForExit();
  }
});

// ---- generators ---------------------------------------------------------------

/** Any value the wire can carry (msgpack without extensions). */
const wireValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: false }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * A command-shaped array with any opcode but `start` (which would really listen
 * on a port) and `shutdown` (which would really end the process, unanswered) and
 * arguments of random types: mostly wrongly typed, some valid.
 */
const commandLike = fc
  .tuple(
    fc.oneof(fc.integer({ min: 2, max: 15 }), fc.integer({ min: 16, max: 200 }), fc.integer({ min: -5, max: 0 }), fc.double()),
    fc.array(
      fc.oneof(wireValue, fc.integer({ min: 0, max: 2 ** 31 }), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 32 })),
      { maxLength: 5 },
    ),
  )
  .map(([op, args]) => [op, ...args])
  .filter((value) => value[0] !== Command.SHUTDOWN);

/** One frame body: a command-like value, any value, random bytes, or a truncated encoding. */
const frameBody: fc.Arbitrary<{ kind: string; body: Buffer }> = fc.oneof(
  commandLike.map((value) => ({ kind: 'command-like', body: packValue(value) })),
  wireValue.filter((value) => !(Array.isArray(value) && (value[0] === Command.START || value[0] === Command.SHUTDOWN))).map((value) => ({ kind: 'value', body: packValue(value) })),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ kind: 'bytes', body: Buffer.from(bytes) })),
  fc
    .tuple(commandLike, fc.nat())
    .map(([value, cut]) => {
      const whole = packValue(value);
      return { kind: 'truncated', body: whole.subarray(0, 1 + (cut % Math.max(1, whole.length - 1))) };
    })
    .filter(({ body }) => body.length > 0),
);

function frameOf(body: Buffer): Buffer {
  const prefix = Buffer.alloc(LENGTH_PREFIX_BYTES);
  prefix.writeUInt32LE(body.length);
  return Buffer.concat([prefix, body]);
}

/** Splits bytes at the given (sorted, deduplicated) cut points. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

// ---- in-process -----------------------------------------------------------------

describe('FrameDecoder', () => {
  it('returns exactly the frames sent, in order, however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => frameOf(Buffer.from(b))));
        const decoder = new FrameDecoder();
        const out: Buffer[] = [];
        for (const chunk of split(stream, cuts)) out.push(...decoder.push(chunk));
        expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it('on a truncated stream returns the complete frames and keeps only the incomplete tail', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 500 }), { minLength: 1, maxLength: 10 }), fc.nat(), (bodies, cut) => {
        const stream = Buffer.concat(bodies.map((b) => frameOf(Buffer.from(b))));
        const truncated = stream.subarray(0, cut % stream.length);
        const decoder = new FrameDecoder();
        const out = decoder.push(truncated);
        let complete = 0;
        let consumed = 0;
        for (const body of bodies) {
          if (consumed + LENGTH_PREFIX_BYTES + body.length > truncated.length) break;
          consumed += LENGTH_PREFIX_BYTES + body.length;
          complete++;
        }
        expect(out).toHaveLength(complete);
        expect(decoder.bufferedBytes).toBe(truncated.length - consumed);
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it('on random bytes either returns frames or throws FrameLengthError naming the length, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const decoder = new FrameDecoder();
        try {
          for (const chunk of split(Buffer.from(bytes), cuts)) decoder.push(chunk);
        } catch (error) {
          expect(error).toBeInstanceOf(FrameLengthError);
          const length = (error as FrameLengthError).length;
          expect(length === 0 || length > MAX_FRAME_LENGTH).toBe(true);
          expect((error as Error).message).toContain(`impossible frame length ${length}`);
        }
      }),
      { numRuns: 500 * SCALE },
    );
  });

  it('rejects every impossible length, 0 and above 256 MiB, as soon as the prefix is complete', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(0), fc.integer({ min: MAX_FRAME_LENGTH + 1, max: 2 ** 32 - 1 })), fc.integer({ min: 0, max: 3 }), (length, cut) => {
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32LE(length);
        const decoder = new FrameDecoder();
        decoder.push(prefix.subarray(0, cut));
        expect(() => decoder.push(prefix.subarray(cut))).toThrow(FrameLengthError);
      }),
      { numRuns: 200 * SCALE },
    );
  });
});

describe('command parsing and dispatch', () => {
  it('parseCommand never throws and explains every refusal with a stable code', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), wireValue, commandLike), (value) => {
        const result = parseCommand(value);
        if (!result.ok) {
          expect(['malformed_command', 'unknown_command']).toContain(result.code);
          expect(result.message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 2000 * SCALE },
    );
  });

  it('dispatchFrame never throws: a bad frame is one error event, a good one one call to the server', () => {
    const calls: string[] = [];
    const server = new Proxy({} as SidecarServer, {
      // The cluster (cluster.ts) reads the server's rooms and clients to answer the presence requests.
      get: (_target, name) =>
        name === 'stats' ? () => ({}) : name === 'rooms' ? new RoomRegistry() : name === 'table' ? { clients: new Map() } : () => void calls.push(String(name)),
    });
    const events: AnyEvent[] = [];
    const dispatcher = new CommandDispatcher(server, (event) => events.push(event));
    fc.assert(
      fc.property(frameBody, ({ body }) => {
        calls.length = 0;
        events.length = 0;
        dispatcher.dispatchFrame(body);
        expect(calls.length + events.length).toBe(1);
        if (events.length === 1 && events[0]![0] === Event.ERROR) {
          const [, code, message, clientId] = events[0] as [number, string, string, number];
          // invalid_argument: random bytes can spell a command whose str is not UTF-8 (issue #12, defect 16).
          expect(['malformed_command', 'unknown_command', 'invalid_argument']).toContain(code);
          expect(message).toMatch(/\w/);
          expect(clientId).toBe(0);
        }
      }),
      { numRuns: 3000 * SCALE },
    );
  });
});

// ---- the real sidecar process -----------------------------------------------------------

describe('the sidecar process', () => {
  it('answers every random, truncated or wrongly typed frame, sent in random chunks, with exactly one event, and keeps serving', async () => {
    const host = await SidecarHost.launch();
    running.push(host);
    const events: AnyEvent[] = [];
    host.on('event', (event) => events.push(event));
    let token = 1_000_000;
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(frameBody, { minLength: 20, maxLength: 300, size: 'max' }), fc.array(fc.nat(), { maxLength: 40 }), async (frames, cuts) => {
        for (const { kind } of frames) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        const marker = token++;
        const start = events.length;
        const stream = Buffer.concat([...frames.map(({ body }) => frameOf(body)), encodeFrame([Command.PING, marker])]);
        for (const chunk of split(stream, cuts)) {
          if (chunk.length === 0) continue;
          host.child.stdin!.write(chunk);
          if (chunk.length % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        await until(() => events.slice(start).some((e) => e[0] === Event.PONG && e[1] === marker), `the pong after ${frames.length} fuzz frames`, 10_000);
        const answers = events.slice(start);
        // One event per frame, then the marker's pong, and nothing but errors, pongs, stats and stopped.
        expect(answers).toHaveLength(frames.length + 1);
        for (const event of answers) expect([Event.ERROR, Event.PONG, Event.STATS, Event.STOPPED, Event.ROOM_MEMBERS, Event.CLUSTER_STATS]).toContain(event[0]);
        for (const event of answers.filter((e) => e[0] === Event.ERROR)) {
          expect(['malformed_command', 'unknown_command', 'invalid_argument', 'not_listening', 'unknown_request']).toContain(event[1]);
        }
        expect(host.child.exitCode).toBeNull();
      }),
      { numRuns: 40 * SCALE },
    );
    console.log(`fuzzed the sidecar process with ${JSON.stringify(Object.fromEntries(kinds))} frames`);
    // Still a working server afterwards.
    const listening = await host.start({ port: 0, host: '127.0.0.1', heartbeat_interval_ms: 0 });
    expect(listening.port).toBeGreaterThan(0);
    expect(await host.close()).toBe(0);
  }, 120_000);

  it('takes a 16 MiB frame in pieces and answers it; a half-sent 200 MiB frame then EOF exits cleanly within 1 s', async () => {
    const host = await SidecarHost.launch();
    running.push(host);
    const errors: string[] = [];
    host.on('errorReported', (code) => errors.push(code));
    const big = encodeFrame([Command.SEND_BINARY, 1, new Uint8Array(16 * 1024 * 1024)]);
    for (let offset = 0; offset < big.length; offset += 1024 * 1024) host.child.stdin!.write(big.subarray(offset, offset + 1024 * 1024));
    await until(() => errors.length === 1, 'the answer to the 16 MiB frame', 20_000);
    expect(errors).toEqual(['not_listening']);

    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(200 * 1024 * 1024);
    host.child.stdin!.write(prefix);
    host.child.stdin!.write(Buffer.alloc(8 * 1024 * 1024));
    // Whatever follows is part of that frame's body now; the sidecar waits for the rest until EOF.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(host.child.exitCode).toBeNull();
    const closedAt = performance.now();
    const code = await host.close();
    expect(code).toBe(0);
    expect(performance.now() - closedAt).toBeLessThan(1000);
  }, 60_000);

  it('exits with code 2 and a stderr line naming any impossible length, even after good frames', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(0), fc.integer({ min: MAX_FRAME_LENGTH + 1, max: 2 ** 32 - 1 })),
        fc.array(frameBody, { maxLength: 5 }),
        async (length, before) => {
          const host = await SidecarHost.launch();
          running.push(host);
          const prefix = Buffer.alloc(4);
          prefix.writeUInt32LE(length);
          host.writeRaw(Buffer.concat([...before.map(({ body }) => frameOf(body)), prefix, Buffer.from('trailing junk')]));
          const startedAt = performance.now();
          expect(await host.waitForExit()).toBe(2);
          expect(performance.now() - startedAt).toBeLessThan(2000);
          await until(() => host.stderr.includes(`impossible frame length ${length}`), 'the stderr line', 2000);
          expect(host.stderr).toMatch(/^error: impossible frame length/m);
        },
      ),
      { numRuns: 4 * SCALE },
    );
  }, 60_000);
});
