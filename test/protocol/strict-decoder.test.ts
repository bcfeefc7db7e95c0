/** The host's decoder: plain MessagePack only, with floats, big integers and bad UTF-8 kept visible. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../protocol/fixtures.js';
import { packValue } from '../../protocol/msgpack.js';
import { decodeStrict, isWireMap, MAX_DEPTH, NotUtf8, StrictDecodeError, WireFloat } from '../../protocol/strict-decoder.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);

/** Buffers as plain Uint8Arrays and maps as plain objects, so values compare by content only. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('decodeStrict', () => {
  it('decodes every command fixture to its value', () => {
    for (const fixture of FIXTURES.filter((f) => f.direction === 'command')) {
      expect(plain(decodeStrict(packValue(fixture.value)))).toEqual(plain(fixture.value));
    }
  });

  it('decodes what msgpackr encodes, for any plain value without floats', () => {
    const value = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
        fc.string(),
        fc.uint8Array().map((a) => Buffer.from(a)),
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    fc.assert(
      fc.property(value, (v) => {
        expect(plain(decodeStrict(packValue(v)))).toEqual(plain(v));
      }),
    );
  });

  it('keeps floats apart from integers, 1.0 included', () => {
    expect(decodeStrict(bytes(0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0))).toEqual(new WireFloat(1));
    expect(decodeStrict(bytes(0xca, 0x3f, 0xc0, 0, 0))).toEqual(new WireFloat(1.5));
  });

  it('reads every integer form exactly: numbers up to 2^53, bigints past it', () => {
    expect(decodeStrict(bytes(0xff))).toBe(-1);
    expect(decodeStrict(bytes(0xd0, 0x80))).toBe(-128);
    expect(decodeStrict(bytes(0xcd, 0xff, 0xff))).toBe(65535);
    expect(decodeStrict(bytes(0xd2, 0x80, 0, 0, 0))).toBe(-(2 ** 31));
    expect(decodeStrict(bytes(0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeStrict(bytes(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1))).toBe(2n ** 53n + 1n);
    expect(decodeStrict(bytes(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(2n ** 64n - 1n);
    expect(decodeStrict(bytes(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0))).toBe(-(2n ** 63n));
  });

  it('hands out a str that is not UTF-8 as NotUtf8, and bin as a view of the body', () => {
    const body = bytes(0x92, 0xa2, 0xc0, 0xaf, 0xc4, 0x01, 0x07);
    const [text, data] = decodeStrict(body) as [NotUtf8, Buffer];
    expect(text).toBeInstanceOf(NotUtf8);
    expect([...text.bytes]).toEqual([0xc0, 0xaf]);
    expect(data.buffer).toBe(body.buffer);
  });

  it('builds maps without a prototype', () => {
    const map = decodeStrict(packValue({ __proto__: 1, port: 2 } as unknown as object)) as Record<string, unknown>;
    expect(isWireMap(map)).toBe(true);
    expect(Object.getPrototypeOf(map)).toBeNull();
    expect(isWireMap(new WireFloat(1))).toBe(false);
    expect(isWireMap(Buffer.alloc(1))).toBe(false);
  });

  it.each([
    ['fixext 1', bytes(0x92, 0x0e, 0xd4, 0x01, 0x00), /extension type \(0xd4\) at offset 2/],
    ['the timestamp extension', bytes(0xd6, 0xff, 0, 0, 0, 1), /extension type \(0xd6\)/],
    ['ext 8', bytes(0xc7, 0x01, 0x05, 0x00), /extension type \(0xc7\)/],
    ['0xc1 inside a map', bytes(0x81, 0xa1, 0x61, 0xc1), /reserved byte 0xc1 at offset 3/],
    ['a non-str map key', bytes(0x81, 0x01, 0x02), /map key at offset 1 is not a UTF-8 str/],
    ['a map key that is not UTF-8', bytes(0x81, 0xa1, 0x80, 0x02), /map key/],
    ['a truncated str', bytes(0xa5, 0x61), /a str at offset 1 needs 5 byte\(s\), 1 left/],
    ['trailing bytes', bytes(0x01, 0x02), /1 byte\(s\) follow the value at offset 1/],
    ['an array32 larger than the body', bytes(0xdd, 0xff, 0xff, 0xff, 0xff), /announces 4294967295 element\(s\), only 0 byte\(s\) are left/],
    ['nesting past MAX_DEPTH', Buffer.alloc(MAX_DEPTH + 1, 0x91), /nested deeper than 32 levels/],
    ['an empty body', bytes(), /needs 1 byte/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => decodeStrict(body)).toThrow(StrictDecodeError);
    expect(() => decodeStrict(body)).toThrow(message);
  });
});
