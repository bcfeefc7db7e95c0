/**
 * The one msgpackr configuration both TypeScript sides use. A bare `Packr`
 * turns on msgpackr's record extension; the wire allows no extension at all
 * (PROTOCOL.md, "Values on the wire"), so every extension-producing feature is
 * switched off here and the fixture tests prove the bytes stay plain.
 */
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
});

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/**
 * Encodes one value as plain MessagePack. The result may share memory with later calls' results
 * only by position, never by content. Integers past 32 bits are never written as the float64
 * msgpackr would write for a number (PROTOCOL.md, "Values on the wire"): nested ones (cluster
 * client ids in lists and maps) go as int64, and an array's own integer elements (opcode, ids,
 * tokens) in their smallest exact integer form, uint64 included.
 */
export function packValue(value: unknown): Buffer {
  const widened = widenLargeIntegers(value);
  if (Array.isArray(value) && value.some(needsExactInteger)) return packArrayExactly(value, widened as unknown[]);
  return packr.pack(widened);
}

/**
 * `value` with every safe integer outside the 32-bit ranges turned into a BigInt, which msgpackr
 * writes as int64; the value itself (no copy) when there is none.
 */
function widenLargeIntegers(value: unknown): unknown {
  if (typeof value === 'number') {
    return (value > 0xffffffff || value < -0x80000000) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const widened = widenLargeIntegers(item);
      if (widened !== item) (copy ??= value.slice())[i] = widened;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const widened = widenLargeIntegers(item);
    if (widened !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = widened;
  }
  return copy ?? value;
}

const UINT32_END = 2n ** 32n;
const INT32_MIN = -(2n ** 31n);
const UINT64_END = 2n ** 64n;
const INT64_MIN = -(2n ** 63n);

/** An integer msgpackr would not write as one: a bigint, or a number outside int32/uint32. */
function needsExactInteger(item: unknown): boolean {
  return typeof item === 'bigint' || (typeof item === 'number' && Number.isInteger(item) && (item > 0xffffffff || item < -0x80000000));
}

/** `items` with its own integers written exactly and every other element as in `widened`. */
function packArrayExactly(items: unknown[], widened: unknown[]): Buffer {
  const parts = items.map((item, i) => (needsExactInteger(item) ? packInteger(BigInt(item as number | bigint)) : packr.pack(widened[i])));
  return Buffer.concat([arrayHeader(items.length), ...parts]);
}

/** fixarray, array16 or array32 header for `n` elements. */
function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x90 | n]);
  const small = n < 0x10000;
  const head = Buffer.allocUnsafe(small ? 3 : 5);
  head[0] = small ? 0xdc : 0xdd;
  if (small) head.writeUInt16BE(n, 1);
  else head.writeUInt32BE(n, 1);
  return head;
}

/** The smallest MessagePack integer holding `value`; float64 only past what uint64/int64 hold. */
function packInteger(value: bigint): Buffer {
  if ((value >= 0n && value < UINT32_END) || (value < 0n && value >= INT32_MIN)) return packr.pack(Number(value));
  const out = Buffer.allocUnsafe(9);
  if (value >= 0n && value < UINT64_END) {
    out[0] = 0xcf;
    out.writeBigUInt64BE(value, 1);
  } else if (value < 0n && value >= INT64_MIN) {
    out[0] = 0xd3;
    out.writeBigInt64BE(value, 1);
  } else {
    return packr.pack(Number(value));
  }
  return out;
}

/** Decodes exactly one MessagePack value; throws on truncated or trailing bytes. */
export function unpackValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}
