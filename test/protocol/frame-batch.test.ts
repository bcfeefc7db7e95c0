import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import { FrameBatch } from '../../protocol/frame-batch.js';
import { encodeFrame, FrameDecoder } from '../../protocol/frame-codec.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FrameBatch', () => {
  it('copies one turn of frames into one buffer, byte for byte as encodeFrame writes each', async () => {
    const taken: Buffer[] = [];
    const batch: FrameBatch = new FrameBatch(() => taken.push(batch.take()!));
    batch.pushValue([Event.PONG, 3]);
    batch.pushMessage(Event.TEXT, 7, 'héllo', true);
    batch.pushMessage(Event.BINARY, 300, Uint8Array.from([1, 2, 3]), false);
    batch.pushRaw(Buffer.from([0xff]));
    expect(taken).toHaveLength(0);
    await tick();
    expect(taken).toHaveLength(1);
    const expected = Buffer.concat([
      encodeFrame([Event.PONG, 3]),
      encodeFrame([Event.TEXT, 7, 'héllo']),
      encodeFrame([Event.BINARY, 300, Buffer.from([1, 2, 3])]),
      Buffer.from([0xff]),
    ]);
    expect(taken[0]!.equals(expected)).toBe(true);
  });

  it('schedules one flush per turn and hands out nothing when empty', async () => {
    let flushes = 0;
    const batch = new FrameBatch(() => flushes++);
    batch.pushValue([Event.STOPPED]);
    batch.pushValue([Event.STOPPED]);
    expect(new FrameDecoder().push(batch.take()!)).toHaveLength(2);
    expect(batch.take()).toBeUndefined();
    await tick();
    expect(flushes).toBe(1);
  });
});
