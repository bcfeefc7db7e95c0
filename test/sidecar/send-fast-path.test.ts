/** send_text / send_binary read straight from the frame: same result as the general path, or no fast path at all. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packValue } from '../../protocol/msgpack.js';
import { parseSendFast } from '../../sidecar/command-dispatcher.js';

const IDS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1];
const LENGTHS = [0, 1, 31, 32, 255, 256, 65535, 65536, 70000];

describe('parseSendFast', () => {
  it('reads every header size class of id and payload as the general decoder does', () => {
    for (const id of IDS) {
      for (const n of LENGTHS) {
        const text = 'é'.repeat(n >> 1) + 'x'.repeat(n & 1);
        const t = parseSendFast(packValue([3, id, text]));
        expect(t && { clientId: t.clientId, binary: t.binary, ok: Buffer.from(t.data).equals(Buffer.from(text)) }).toEqual({ clientId: id, binary: false, ok: true });
        const bytes = Buffer.alloc(n, n & 255);
        const b = parseSendFast(packValue([4, id, bytes]));
        expect(b && { clientId: b.clientId, binary: b.binary, ok: Buffer.from(b.data).equals(bytes) }).toEqual({ clientId: id, binary: true, ok: true });
      }
    }
  });

  it('agrees with msgpack for any text and bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (id, text, data) => {
        const t = parseSendFast(packValue([3, id, text]))!;
        expect([t.clientId, t.binary, Buffer.from(t.data).toString()]).toEqual([id, false, text]);
        const b = parseSendFast(packValue([4, id, Buffer.from(data)]))!;
        expect([b.clientId, b.binary, [...b.data]]).toEqual([id, true, [...data]]);
      }),
    );
  });

  it('leaves everything else to the general path', () => {
    const invalidUtf8 = Buffer.concat([Buffer.from([0x93, 3, 1, 0xa2]), Buffer.from([0xc3, 0x28])]);
    for (const body of [
      packValue([3, 1, 'x', 'extra']), // extra elements are allowed, but not here
      packValue([3, 1, Buffer.from('x')]), // bin where str belongs
      packValue([4, 1, 'x']), // str where bin belongs
      packValue([3, -1, 'x']), // negative id
      packValue([3, 1.5, 'x']), // float id
      packValue([5, 'x', 0]), // another command
      packValue([3, 1, 'abc']).subarray(0, 5), // truncated
      Buffer.concat([packValue([3, 1, 'abc']), Buffer.from([0])]), // trailing byte
      invalidUtf8,
      Buffer.from([0x93, 3]),
    ]) {
      expect(parseSendFast(body)).toBeUndefined();
    }
  });
});
