/** Client messages encoded and read without msgpackr: the same bytes and values as msgpack, or no fast path at all. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packValue } from '../../protocol/msgpack.js';
import { Command, Event } from '../../protocol/constants.js';
import { encodeMessageHead, parseMessage } from '../../protocol/message-codec.js';

// The last three are cluster ids (PROTOCOL.md, "Cluster"): past 32 bits, written as int64.
const IDS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 3 * 2 ** 32 + 300, 2 ** 53 - 1];
const LENGTHS = [0, 1, 31, 32, 255, 256, 65535, 65536, 70000];

const parseSendFast = (body: Uint8Array) => parseMessage(body, Command.SEND_TEXT, Command.SEND_BINARY);

describe('parseMessage', () => {
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
      fc.property(fc.integer({ min: 1, max: 2 ** 53 - 1 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (id, text, data) => {
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
      Buffer.from([0x93, 3, 0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0, 0xa1, 0x78]), // an id of 2^53, past exact numbers
      Buffer.from([0x93, 3, 0xd3, 0, 0, 0, 1, 0, 0]), // a truncated int64 id
    ]) {
      expect(parseSendFast(body)).toBeUndefined();
    }
  });

  it('reads the sidecar\'s text and binary events with their own opcodes, and only those', () => {
    const text = parseMessage(packValue([Event.TEXT, 300, 'héllo']), Event.TEXT, Event.BINARY)!;
    expect([text.clientId, text.binary, text.data.toString()]).toEqual([300, false, 'héllo']);
    const bytes = parseMessage(packValue([Event.BINARY, 7, Buffer.from([1, 2, 3])]), Event.TEXT, Event.BINARY)!;
    expect([bytes.clientId, bytes.binary, [...bytes.data]]).toEqual([7, true, [1, 2, 3]]);
    expect(parseMessage(packValue([Command.SEND_TEXT, 1, 'x']), Event.TEXT, Event.BINARY)).toBeUndefined();
    expect(parseSendFast(packValue([Event.TEXT, 1, 'x']))).toBeUndefined();
  });

  it('reads a cluster id written as uint64 as well as int64', () => {
    const body = Buffer.from([0x93, 3, 0xcf, 0, 0, 0, 1, 0, 0, 0, 5, 0xa1, 0x78]);
    expect(parseSendFast(body)?.clientId).toBe(2 ** 32 + 5);
  });

  it('hands out a view of the body, a Buffer when the body is one', () => {
    const body = packValue([Event.BINARY, 1, Buffer.from([9, 8])]);
    const message = parseMessage(body, Event.TEXT, Event.BINARY)!;
    expect(Buffer.isBuffer(message.data)).toBe(true);
    expect(message.data.buffer).toBe(body.buffer);
  });
});

describe('encodeMessageHead', () => {
  it('matches packValue for every header size class of id and payload', () => {
    for (const id of [0, ...IDS]) {
      for (const n of LENGTHS) {
        const text = 'a'.repeat(n);
        const bytes = Buffer.from(text);
        // Buffer.equals: a deep toEqual of 70,000-byte buffers is far too slow.
        expect(Buffer.concat([encodeMessageHead(70, id, n, true), bytes]).equals(packValue([70, id, text])), `text, id ${id}, ${n} bytes`).toBe(true);
        expect(Buffer.concat([encodeMessageHead(71, id, n, false), bytes]).equals(packValue([71, id, bytes])), `binary, id ${id}, ${n} bytes`).toBe(true);
      }
    }
  });

  it('matches packValue for any UTF-8 text and any bytes, and parseMessage reads it back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (id, text, data) => {
        const utf8 = Buffer.from(text);
        const textBody = Buffer.concat([encodeMessageHead(Command.SEND_TEXT, id, utf8.length, true), utf8]);
        expect(textBody).toEqual(packValue([Command.SEND_TEXT, id, text]));
        expect(parseSendFast(textBody)!.data.toString()).toBe(text);
        const binaryBody = Buffer.concat([encodeMessageHead(Command.SEND_BINARY, id, data.length, false), data]);
        expect(binaryBody).toEqual(packValue([Command.SEND_BINARY, id, Buffer.from(data)]));
        expect([...parseSendFast(binaryBody)!.data]).toEqual([...data]);
      }),
    );
  });
});
