import { PassThrough, Writable } from 'node:stream';
import { Event } from '../../protocol/constants.js';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { unpackValue } from '../../protocol/msgpack.js';
import { EventWriter } from '../../sidecar/event-writer.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('EventWriter', () => {
  it('writes all events of one turn in one write, in order', async () => {
    const writes: Buffer[] = [];
    const output = new Writable({ write: (chunk, _enc, done) => (writes.push(chunk), done()) });
    const writer = new EventWriter(output);
    writer.write([70, 1, 'a']);
    writer.write([71, 2, Buffer.from([1])]);
    writer.write([74, 3]);
    expect(writes).toHaveLength(0);
    await tick();
    expect(writes).toHaveLength(1);
    expect(new FrameDecoder().push(writes[0]!).map((f) => unpackValue(f))).toEqual([[70, 1, 'a'], [71, 2, Buffer.from([1])], [74, 3]]);
  });

  it('writeNow writes at once, after what was queued before it, and leaves nothing for the end of the turn', async () => {
    const writes: Buffer[] = [];
    const output = new Writable({ write: (chunk, _enc, done) => (writes.push(chunk), done()) });
    const writer = new EventWriter(output);
    writer.write([70, 1, 'a']);
    writer.writeNow([Event.CONSUMED, 12]);
    expect(writes).toHaveLength(1);
    expect(new FrameDecoder().push(writes[0]!).map((f) => unpackValue(f))).toEqual([[70, 1, 'a'], [Event.CONSUMED, 12]]);
    writer.write([74, 3]);
    await tick();
    expect(writes).toHaveLength(2);
    expect(new FrameDecoder().push(writes[1]!).map((f) => unpackValue(f))).toEqual([[74, 3]]);
  });

  it('reports pressure when the output is full and relief once it drains', async () => {
    const output = new PassThrough({ highWaterMark: 16 });
    const pressure: boolean[] = [];
    const writer = new EventWriter(output, (backedUp) => pressure.push(backedUp), 64);
    writer.write([70, 1, 'x'.repeat(100)]);
    await tick();
    expect(pressure).toEqual([true]);
    expect(writer.isBackedUp).toBe(true);
    output.resume();
    await new Promise((resolve) => output.once('drain', resolve));
    await tick();
    expect(pressure).toEqual([true, false]);
  });

  it('reports pressure by max_queued_events at the latest, below the threshold (issue #12, defect 3)', async () => {
    const output = new PassThrough({ highWaterMark: 16 });
    const pressure: boolean[] = [];
    const writer = new EventWriter(output, (backedUp) => pressure.push(backedUp), 1024 * 1024);
    writer.maxQueuedBytes = 2048;
    writer.write([70, 1, 'x'.repeat(1000)]);
    await tick();
    expect([pressure, writer.queuedBytes > 1000]).toEqual([[], true]);
    writer.write([70, 1, 'x'.repeat(1100)]);
    await tick();
    expect(pressure).toEqual([true]);
  });

  it('does not pause for a backlog below the threshold, however small the stream buffer', async () => {
    const output = new PassThrough({ highWaterMark: 16 });
    const pressure: boolean[] = [];
    const writer = new EventWriter(output, (backedUp) => pressure.push(backedUp), 1024);
    writer.write([71, 1, Buffer.alloc(500)]);
    await tick();
    expect(pressure).toEqual([]);
    writer.write([71, 1, Buffer.alloc(1000)]);
    await tick();
    expect(pressure).toEqual([true]);
  });
});
