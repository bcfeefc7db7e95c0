/**
 * The decoder for what a host sends (PROTOCOL.md, "Values on the wire"): plain MessagePack and
 * nothing else, read so that a value that is present but wrong can never pass for another one.
 * msgpackr cannot do that: it turns the timestamp extension into a Date, reads the reserved byte
 * 0xc1 as a value, hands out `1.0` as the integer 1, rounds integers past 2^53 and replaces
 * invalid UTF-8 with U+FFFD. Here an extension type or 0xc1 anywhere fails the whole value, and
 * what the checks after it must see stays visible: floats arrive as `WireFloat`, integers past
 * 2^53 as exact bigints, and a str that is not UTF-8 as `NotUtf8`.
 */
import { isUtf8 } from 'node:buffer';

/** A MessagePack float (float32 or float64), kept apart from integers even when it holds `1.0`. */
export class WireFloat {
  constructor(readonly value: number) {}
}

/** A MessagePack str whose bytes are not valid UTF-8; `bytes` is a view of the frame body. */
export class NotUtf8 {
  constructor(readonly bytes: Buffer) {}
}

/** Thrown for bytes that are not one plain MessagePack value. */
export class StrictDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrictDecodeError';
  }
}

/** Arrays and maps nested deeper than this are refused (no command needs more than 3). */
export const MAX_DEPTH = 32;

/** A decoded map: string keys, no prototype (a `__proto__` key is just a key). */
export type WireMap = { [key: string]: unknown };

/** True for a map `decodeStrict` produced (or a plain object literal), not a WireFloat, NotUtf8 or Buffer. */
export function isWireMap(value: unknown): value is WireMap {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/**
 * Decodes exactly one value from `bytes`: nil → null, bool, int → number (bigint past ±2^53),
 * float → WireFloat, str → string (NotUtf8 when invalid), bin → Buffer (a view, no copy),
 * array → array, map with str keys → WireMap.
 * @throws StrictDecodeError for an extension type, 0xc1, a non-str map key, a truncated value,
 *   trailing bytes or nesting past `MAX_DEPTH`
 */
export function decodeStrict(bytes: Uint8Array): unknown {
  const reader = new Reader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const value = reader.value(0);
  if (reader.at !== reader.buf.length) {
    throw new StrictDecodeError(`${reader.buf.length - reader.at} byte(s) follow the value at offset ${reader.at}`);
  }
  return value;
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  value(depth: number): unknown {
    const start = this.at;
    const tag = this.buf[this.skip(1, 'a value')]!;
    if (tag < 0x80) return tag;
    if (tag >= 0xe0) return tag - 0x100;
    if (tag <= 0x8f) return this.map(tag & 0x0f, depth);
    if (tag <= 0x9f) return this.array(tag & 0x0f, depth);
    if (tag <= 0xbf) return this.str(tag & 0x1f);
    switch (tag) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.uint(1));
      case 0xc5: return this.bin(this.uint(2));
      case 0xc6: return this.bin(this.uint(4));
      case 0xca: return new WireFloat(this.buf.readFloatBE(this.skip(4, 'float32')));
      case 0xcb: return new WireFloat(this.buf.readDoubleBE(this.skip(8, 'float64')));
      case 0xcc: return this.uint(1);
      case 0xcd: return this.uint(2);
      case 0xce: return this.uint(4);
      case 0xcf: return exact(this.buf.readBigUInt64BE(this.skip(8, 'uint64')));
      case 0xd0: return this.buf.readInt8(this.skip(1, 'int8'));
      case 0xd1: return this.buf.readInt16BE(this.skip(2, 'int16'));
      case 0xd2: return this.buf.readInt32BE(this.skip(4, 'int32'));
      case 0xd3: return exact(this.buf.readBigInt64BE(this.skip(8, 'int64')));
      case 0xd9: return this.str(this.uint(1));
      case 0xda: return this.str(this.uint(2));
      case 0xdb: return this.str(this.uint(4));
      case 0xdc: return this.array(this.uint(2), depth);
      case 0xdd: return this.array(this.uint(4), depth);
      case 0xde: return this.map(this.uint(2), depth);
      case 0xdf: return this.map(this.uint(4), depth);
    }
    // 0xc1 is reserved; 0xc7–0xc9 (ext 8/16/32) and 0xd4–0xd8 (fixext) are extension types.
    const what = tag === 0xc1 ? 'the reserved byte 0xc1' : `an extension type (0x${tag.toString(16)})`;
    throw new StrictDecodeError(`${what} at offset ${start}: the wire allows plain MessagePack only`);
  }

  /** Moves past `n` bytes and returns where they start. */
  private skip(n: number, what: string): number {
    const at = this.at;
    if (at + n > this.buf.length) {
      throw new StrictDecodeError(`${what} at offset ${at} needs ${n} byte(s), ${this.buf.length - at} left`);
    }
    this.at = at + n;
    return at;
  }

  private uint(width: 1 | 2 | 4): number {
    const at = this.skip(width, 'a length or integer');
    return width === 1 ? this.buf[at]! : width === 2 ? this.buf.readUInt16BE(at) : this.buf.readUInt32BE(at);
  }

  private str(n: number): string | NotUtf8 {
    const at = this.skip(n, 'a str');
    const end = at + n;
    // Short ASCII, most keys and names, needs neither the UTF-8 check nor the UTF-8 decoder.
    if (n <= 32) {
      const ascii = asciiString(this.buf, at, end);
      if (ascii !== undefined) return ascii;
    }
    const bytes = this.buf.subarray(at, end);
    return isUtf8(bytes) ? bytes.toString('utf8') : new NotUtf8(bytes);
  }

  private bin(n: number): Buffer {
    const at = this.skip(n, 'a bin');
    return this.buf.subarray(at, at + n);
  }

  private array(n: number, depth: number): unknown[] {
    this.checkCount(n, depth, 'array');
    const items = new Array<unknown>(n);
    for (let i = 0; i < n; i++) items[i] = this.value(depth + 1);
    return items;
  }

  private map(n: number, depth: number): WireMap {
    this.checkCount(n * 2, depth, 'map');
    const map: WireMap = Object.create(null) as WireMap;
    for (let i = 0; i < n; i++) {
      const keyAt = this.at;
      const key = this.value(depth + 1);
      if (typeof key !== 'string') throw new StrictDecodeError(`a map key at offset ${keyAt} is not a UTF-8 str`);
      map[key] = this.value(depth + 1);
    }
    return map;
  }

  /** Every element takes at least one byte: a count the rest of the body cannot hold is refused before allocating. */
  private checkCount(elements: number, depth: number, what: string): void {
    if (depth >= MAX_DEPTH) throw new StrictDecodeError(`${what} nested deeper than ${MAX_DEPTH} levels`);
    if (elements > this.buf.length - this.at) {
      throw new StrictDecodeError(`${what} header before offset ${this.at} announces ${elements} element(s), only ${this.buf.length - this.at} byte(s) are left`);
    }
  }
}

/** The bytes as a string when they are all ASCII, else undefined. */
function asciiString(buf: Buffer, at: number, end: number): string | undefined {
  let text = '';
  for (let i = at; i < end; i++) {
    const byte = buf[i]!;
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** An int64/uint64 as a number when that is exact, else as a bigint. */
function exact(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
