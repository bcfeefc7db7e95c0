/**
 * A hand-written MessagePack encoder for the attack tests. It writes the
 * smallest form of each header, as PROTOCOL.md asks, and can also write what
 * a well-behaved encoder never would: a float64 holding an integer, an
 * extension type, the reserved byte 0xc1, or any bytes verbatim. It is
 * written from the MessagePack spec so the attacks depend on nothing in
 * `sidecar/`, `host/` or msgpackr's encoder.
 */

/** Bytes spliced into the output as they are (an extension type, 0xc1, a broken header). */
export class RawBytes {
  constructor(readonly bytes: Buffer) {}
}

/** A number written as float64 even when it is an integer (`1.0`, `2.0`). */
export class Float64 {
  constructor(readonly value: number) {}
}

export type WireValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | RawBytes
  | Float64
  | WireValue[]
  | { [key: string]: WireValue };

export const raw = (bytes: Buffer | number[]): RawBytes => new RawBytes(Buffer.from(bytes));
export const float64 = (value: number): Float64 => new Float64(value);

/** fixext 1 with application type 1 and one data byte. */
export const EXTENSION_VALUE = raw([0xd4, 0x01, 0x00]);
/** fixext 4 with type -1: the spec's timestamp extension (1 s after the epoch). */
export const TIMESTAMP_EXTENSION = raw([0xd6, 0xff, 0x00, 0x00, 0x00, 0x01]);
/** The byte MessagePack reserves and never assigns. */
export const RESERVED_BYTE = raw([0xc1]);

function header(byte: number, size: number, bytes: 1 | 2 | 4): Buffer {
  const out = Buffer.alloc(1 + bytes);
  out[0] = byte;
  if (bytes === 1) out.writeUInt8(size, 1);
  else if (bytes === 2) out.writeUInt16BE(size, 1);
  else out.writeUInt32BE(size, 1);
  return out;
}

function encodeInteger(value: bigint): Buffer {
  if (value >= 0n) {
    if (value < 128n) return Buffer.from([Number(value)]);
    if (value < 256n) return Buffer.from([0xcc, Number(value)]);
    if (value < 65536n) return header(0xcd, Number(value), 2);
    if (value < 4294967296n) return header(0xce, Number(value), 4);
    const out = Buffer.alloc(9);
    out[0] = 0xcf;
    out.writeBigUInt64BE(value, 1);
    return out;
  }
  if (value >= -32n) return Buffer.from([Number(value) & 0xff]);
  if (value >= -128n) return Buffer.from([0xd0, Number(value) & 0xff]);
  if (value >= -32768n) {
    const out = Buffer.alloc(3);
    out[0] = 0xd1;
    out.writeInt16BE(Number(value), 1);
    return out;
  }
  if (value >= -2147483648n) {
    const out = Buffer.alloc(5);
    out[0] = 0xd2;
    out.writeInt32BE(Number(value), 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = 0xd3;
  out.writeBigInt64BE(value, 1);
  return out;
}

function encodeFloat(value: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = 0xcb;
  out.writeDoubleBE(value, 1);
  return out;
}

/** Encodes a string's bytes as str (any bytes, so invalid UTF-8 can be sent as `str`). */
export function strBytes(utf8: Buffer): RawBytes {
  const n = utf8.length;
  const head = n < 32 ? Buffer.from([0xa0 | n]) : n < 256 ? header(0xd9, n, 1) : n < 65536 ? header(0xda, n, 2) : header(0xdb, n, 4);
  return new RawBytes(Buffer.concat([head, utf8]));
}

function encodeBinary(data: Buffer): Buffer {
  const n = data.length;
  const head = n < 256 ? header(0xc4, n, 1) : n < 65536 ? header(0xc5, n, 2) : header(0xc6, n, 4);
  return Buffer.concat([head, data]);
}

function collectionHeader(n: number, fix: number, b16: number, b32: number): Buffer {
  return n < 16 ? Buffer.from([fix | n]) : n < 65536 ? header(b16, n, 2) : header(b32, n, 4);
}

/** Encodes one value. */
export function encode(value: WireValue): Buffer {
  if (value === null) return Buffer.from([0xc0]);
  if (value === false) return Buffer.from([0xc2]);
  if (value === true) return Buffer.from([0xc3]);
  if (value instanceof RawBytes) return value.bytes;
  if (value instanceof Float64) return encodeFloat(value.value);
  if (typeof value === 'bigint') return encodeInteger(value);
  if (typeof value === 'number') return Number.isInteger(value) ? encodeInteger(BigInt(value)) : encodeFloat(value);
  if (typeof value === 'string') return strBytes(Buffer.from(value, 'utf8')).bytes;
  if (Buffer.isBuffer(value)) return encodeBinary(value);
  if (Array.isArray(value)) {
    return Buffer.concat([collectionHeader(value.length, 0x90, 0xdc, 0xdd), ...value.map(encode)]);
  }
  const entries = Object.entries(value);
  const parts = entries.flatMap(([key, item]) => [encode(key), encode(item)]);
  return Buffer.concat([collectionHeader(entries.length, 0x80, 0xde, 0xdf), ...parts]);
}

/** One frame: 4-byte little-endian length, then the body as given. */
export function frameOf(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

/** One command frame: the array `[opcode, ...args]`, encoded and length-prefixed. */
export function commandFrame(opcode: number | Float64, ...args: WireValue[]): Buffer {
  return frameOf(encode([opcode, ...args]));
}

/** A length prefix PROTOCOL.md calls impossible (above 256 MiB), with nothing after it. */
export function impossibleLengthPrefix(): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(0xffff_fff0, 0);
  return prefix;
}
