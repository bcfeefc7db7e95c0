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
 * only by position, never by content. An array's own integer elements (opcode, ids, tokens) are
 * written exactly, in their smallest integer form, also past 32 bits (PROTOCOL.md, "Values on the
 * wire"): msgpackr writes such a number as float64, which rounds past 2^53, and a bigint below
 * 2^63 as int64 even when it is positive.
 */
export function packValue(value: unknown): Buffer {
  if (Array.isArray(value) && value.some(needsExactInteger)) return packArrayExactly(value);
  return packr.pack(value);
}

const UINT32_END = 2n ** 32n;
const INT32_MIN = -(2n ** 31n);
const UINT64_END = 2n ** 64n;
const INT64_MIN = -(2n ** 63n);

/** An integer msgpackr would not write as one: a bigint, or a number outside int32/uint32. */
function needsExactInteger(item: unknown): boolean {
  return typeof item === 'bigint' || (typeof item === 'number' && Number.isInteger(item) && (item > 0xffffffff || item < -0x80000000));
}

function packArrayExactly(items: unknown[]): Buffer {
  const parts = items.map((item) => (needsExactInteger(item) ? packInteger(BigInt(item as number | bigint)) : packr.pack(item)));
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
