/** The client-message fast path of EventWriter (head from protocol/message-codec.ts, tested there) in one write with other events. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { packValue, unpackValue } from '../../protocol/msgpack.js';
import { EventWriter } from '../../sidecar/event-writer.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('EventWriter client-message fast path', () => {
  it('interleaves with ordinary events in one write, in order', async () => {
    const writes: Buffer[] = [];
    const output = new Writable({ write: (chunk, _enc, done) => (writes.push(chunk), done()) });
    const writer = new EventWriter(output);
    writer.write([73, 'unknown_client', 'gone', 1]);
    writer.writeClientMessage(70, 1, Buffer.from('héllo'), true);
    writer.writeClientMessage(71, 300, Buffer.alloc(70000, 7), false);
    writer.write([74, 3]);
    await tick();
    expect(writes).toHaveLength(1);
    expect(new FrameDecoder().push(writes[0]!).map((f) => unpackValue(f))).toEqual([
      [73, 'unknown_client', 'gone', 1],
      [70, 1, 'héllo'],
      [71, 300, Buffer.alloc(70000, 7)],
      [74, 3],
    ]);
  });

  it('frames a cluster client id past 32 bits as packValue does (uint64)', async () => {
    const writes: Buffer[] = [];
    const output = new Writable({ write: (chunk, _enc, done) => (writes.push(chunk), done()) });
    const writer = new EventWriter(output);
    writer.writeClientMessage(70, 2 ** 32, Buffer.from('héllo'), true);
    writer.writeClientMessage(71, 2 ** 40, Buffer.from([1, 2, 3]), false);
    await tick();
    expect(new FrameDecoder().push(writes[0]!)).toEqual([packValue([70, 2 ** 32, 'héllo']), packValue([71, 2 ** 40, Buffer.from([1, 2, 3])])]);
  });
});
