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
  const idByte = body[at++]!;
  if (idByte < 0x80) {
    clientId = idByte;
  } else if (idByte === 0xcc) {
    clientId = body[at++]!;
  } else if (idByte === 0xcd) {
    clientId = (body[at]! << 8) | body[at + 1]!;
    at += 2;
  } else if (idByte === 0xce) {
    clientId = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
    at += 4;
  } else {
    return undefined;
  }
  if (at >= body.length) return undefined;
  const h = body[at++]!;
  let n: number;
  if (op === textOp) {
    if (h >= 0xa0 && h <= 0xbf) {
      n = h & 0x1f;
    } else if (h === 0xd9) {
      n = body[at++]!;
    } else if (h === 0xda) {
      n = (body[at]! << 8) | body[at + 1]!;
      at += 2;
    } else if (h === 0xdb) {
      n = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
      at += 4;
    } else {
      return undefined;
    }
  } else if (h === 0xc4) {
    n = body[at++]!;
  } else if (h === 0xc5) {
    n = (body[at]! << 8) | body[at + 1]!;
    at += 2;
  } else if (h === 0xc6) {
    n = body[at]! * 0x1000000 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
    at += 4;
  } else {
    return undefined;
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
 * headers, PROTOCOL.md). `op` is below 128; `clientId` is an integer in [0, 2^32).
 */
export function encodeMessageHead(op: number, clientId: number, n: number, isText: boolean): Buffer {
  const head = Buffer.allocUnsafe(2 + 9 + 5);
  head[0] = 0x93; // fixarray of 3
  head[1] = op; // positive fixint: event opcodes are 64-127
  let at = 2;
  if (clientId < 0x80) {
    head[at++] = clientId;
  } else if (clientId < 0x100) {
    head[at++] = 0xcc;
    head[at++] = clientId;
  } else if (clientId < 0x10000) {
    head[at++] = 0xcd;
    at = head.writeUInt16BE(clientId, at);
  } else {
    // Callers pass ids below 2^32 (larger ones go through packValue).
    head[at++] = 0xce;
    at = head.writeUInt32BE(clientId, at);
  }
  if (isText) {
    if (n < 32) {
      head[at++] = 0xa0 | n;
    } else if (n < 0x100) {
      head[at++] = 0xd9;
      head[at++] = n;
    } else if (n < 0x10000) {
      head[at++] = 0xda;
      at = head.writeUInt16BE(n, at);
    } else {
      head[at++] = 0xdb;
      at = head.writeUInt32BE(n, at);
    }
  } else if (n < 0x100) {
    head[at++] = 0xc4;
    head[at++] = n;
  } else if (n < 0x10000) {
    head[at++] = 0xc5;
    at = head.writeUInt16BE(n, at);
  } else {
    head[at++] = 0xc6;
    at = head.writeUInt32BE(n, at);
  }
  return head.subarray(0, at);
}
