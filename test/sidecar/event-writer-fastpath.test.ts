/** The client-message fast path of EventWriter writes exactly the bytes packValue would. */
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { packValue, unpackValue } from '../../protocol/msgpack.js';
import { EventWriter, encodeMessageHead } from '../../sidecar/event-writer.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const LENGTHS = [0, 1, 31, 32, 255, 256, 65535, 65536, 70000];
const IDS = [1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1];

describe('EventWriter client-message fast path', () => {
  it('matches packValue for every header size class of id and payload', () => {
    for (const id of IDS) {
      for (const n of LENGTHS) {
        const text = 'a'.repeat(n);
        const bytes = Buffer.from(text);
        // Buffer.equals: a deep toEqual of 70,000-byte buffers is far too slow.
        expect(Buffer.concat([encodeMessageHead(70, id, n, true), bytes]).equals(packValue([70, id, text])), `text, id ${id}, ${n} bytes`).toBe(true);
        expect(Buffer.concat([encodeMessageHead(71, id, n, false), bytes]).equals(packValue([71, id, bytes])), `binary, id ${id}, ${n} bytes`).toBe(true);
      }
    }
  });

  it('matches packValue for any UTF-8 text and any bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (id, text, data) => {
        const utf8 = Buffer.from(text);
        expect(Buffer.concat([encodeMessageHead(70, id, utf8.length, true), utf8])).toEqual(packValue([70, id, text]));
        expect(Buffer.concat([encodeMessageHead(71, id, data.length, false), data])).toEqual(packValue([71, id, Buffer.from(data)]));
      }),
    );
  });

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
});
