/**
 * The two messages that carry nearly all traffic, a client's text or binary message and its
 * answer, encoded and decoded without msgpackr: `[op, client_id, str|bin]`, with op one of
 * send_text/send_binary (host → sidecar) or text/binary (sidecar → host). Both sides use these
 * on their hottest paths; every other value, and every shape these do not recognise, goes
 * through msgpack.ts.
 */
import { isUtf8 } from 'node:buffer';

/** A client message read by `parseMessage`. */
export interface ClientMessage<T extends Uint8Array> {
  clientId: number;
  /** The payload's bytes (UTF-8 for text), a view of the frame body. */
  data: T;
  binary: boolean;
}

/**
 * Reads `[textOp, clientId, str]` or `[binaryOp, clientId, bin]` straight from a frame body: the
 * payload comes back as a view of the body's bytes (a Buffer when the body is one), with no
 * msgpack decode, no UTF-8 decode and no copy. Anything else (another opcode, other header forms,
 * extra elements, a truncated body, text that is not UTF-8) returns undefined: callers then take
 * their general path, which validates and reports exactly as it always did.
 */
export function parseMessage<T extends Uint8Array>(body: T, textOp: number, binaryOp: number): ClientMessage<T> | undefined {
  if (body.length < 4 || body[0] !== 0x93) return undefined;
  const op = body[1];
  if (op !== textOp && op !== binaryOp) return undefined;
  let at = 2;
  let clientId: number;
  const idTag = body[at++]!;
  if (idTag < 0x80) {
    clientId = idTag;
  } else if (idTag === INT64 || idTag === UINT64) {
    // A cluster id (past 32 bits, below 2^53: PROTOCOL.md, "Cluster").
    if (at + 8 > body.length) return undefined;
    const high = readUint(body, at, 4);
    if (high >= 0x200000) return undefined;
    clientId = high * 0x100000000 + readUint(body, at + 4, 4);
    at += 8;
  } else {
    const width = widthAfter(idTag, UINT8);
    if (width === 0) return undefined;
    clientId = readUint(body, at, width);
    at += width;
  }
  if (at >= body.length) return undefined;
  const lengthTag = body[at++]!;
  let n: number;
  if (op === textOp && lengthTag >= 0xa0 && lengthTag <= 0xbf) {
    n = lengthTag & 0x1f;
  } else {
    const width = widthAfter(lengthTag, op === textOp ? STR8 : BIN8);
    if (width === 0) return undefined;
    n = readUint(body, at, width);
    at += width;
  }
  // Exactly the payload must remain: a truncated frame or extra elements take the general path.
  if (at + n !== body.length) return undefined;
  const data = body.subarray(at) as T;
  if (op === textOp && !isUtf8(data)) return undefined;
  return { clientId, data, binary: op === binaryOp };
}

/**
 * msgpack of `[op, clientId, <str|bin header of length n>]`, the payload itself left out: followed
 * by the n payload bytes, exactly the bytes `packValue` writes for the same value (smallest
 * headers, PROTOCOL.md). `op` is below 128; `clientId` is an integer in [0, 2^53).
 */
export function encodeMessageHead(op: number, clientId: number, n: number, isText: boolean): Buffer {
  const head = Buffer.allocUnsafe(2 + 9 + 5);
  head[0] = 0x93; // fixarray of 3
  head[1] = op; // positive fixint: every opcode is below 128
  let at = 2;
  if (clientId < 0x80) head[at++] = clientId;
  else if (clientId <= 0xffffffff) at = writeTagged(head, at, UINT8, clientId);
  else {
    // uint64, as packValue writes an array's own positive integers past 32 bits (cluster ids).
    head[at] = UINT64;
    head.writeUInt32BE(Math.floor(clientId / 0x100000000), at + 1);
    head.writeUInt32BE(clientId >>> 0, at + 5);
    at += 9;
  }
  if (isText && n < 32) head[at++] = 0xa0 | n;
  else at = writeTagged(head, at, isText ? STR8 : BIN8, n);
  return head.subarray(0, at);
}

/*
 * uint, str and bin each have three tags in a row, for a value or length of 1, 2 and 4 bytes
 * (big-endian): uint 8/16/32, str 8/16/32, bin 8/16/32. Each family is named by its first tag.
 */
const UINT8 = 0xcc;
const UINT64 = 0xcf;
const INT64 = 0xd3;
const STR8 = 0xd9;
const BIN8 = 0xc4;

/** Bytes (1, 2 or 4) that follow `tag` in the family starting at `first`; 0 when `tag` is not in it. */
function widthAfter(tag: number, first: number): number {
  return tag >= first && tag <= first + 2 ? 1 << (tag - first) : 0;
}

/** The big-endian unsigned integer of `width` bytes at `at` (NaN or a wrong value past the end: callers check the length). */
function readUint(body: Uint8Array, at: number, width: number): number {
  if (width === 1) return body[at]!;
  if (width === 2) return (body[at]! << 8) | body[at + 1]!;
  return body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
}

/** Writes `value` (below 2^32) with the smallest tag of the family starting at `first`; returns the next offset. */
function writeTagged(head: Buffer, at: number, first: number, value: number): number {
  if (value < 0x100) {
    head[at] = first;
    head[at + 1] = value;
    return at + 2;
  }
  head[at] = first + (value < 0x10000 ? 1 : 2);
  return value < 0x10000 ? head.writeUInt16BE(value, at + 1) : head.writeUInt32BE(value, at + 1);
}
