/**
 * What one server publishes to the others: a small plain-MessagePack header saying what to do
 * with the message, then the message's raw bytes, unchanged. A 2-byte big-endian length in front
 * of the header lets a receiver find the payload without decoding it; nothing is base64'd or
 * re-encoded, and no MessagePack extension type is used.
 */
import { packValue, unpackValue } from '../protocol/msgpack.js';

/** What a published message asks the servers that receive it to do. */
export type Envelope =
  | { kind: 'room'; origin: number; room: string; exclude: number; binary: boolean }
  | { kind: 'broadcast'; origin: number; exclude: number; binary: boolean }
  | { kind: 'send'; origin: number; clientId: number; binary: boolean }
  | { kind: 'disconnect'; origin: number; clientId: number; code: number; reason: string };

const KIND = { room: 1, broadcast: 2, send: 3, disconnect: 4 } as const;
const HEADER_LENGTH_BYTES = 2;

/** The bytes to publish: header and `payload` in one buffer (one copy of the payload). */
export function encodeEnvelope(envelope: Envelope, payload: Uint8Array = EMPTY): Buffer {
  const header = packValue(headerOf(envelope));
  if (header.length > 0xffff) throw new RangeError(`a cluster header of ${header.length} bytes is too long (room name too long?)`);
  const out = Buffer.allocUnsafe(HEADER_LENGTH_BYTES + header.length + payload.length);
  out.writeUInt16BE(header.length, 0);
  header.copy(out, HEADER_LENGTH_BYTES);
  out.set(payload, HEADER_LENGTH_BYTES + header.length);
  return out;
}

/** Reads a published message; undefined for anything this version did not write. */
export function decodeEnvelope(message: Buffer): { envelope: Envelope; payload: Buffer } | undefined {
  if (message.length < HEADER_LENGTH_BYTES) return undefined;
  const end = HEADER_LENGTH_BYTES + message.readUInt16BE(0);
  if (end > message.length) return undefined;
  let header: unknown;
  try {
    header = unpackValue(message.subarray(HEADER_LENGTH_BYTES, end));
  } catch {
    return undefined;
  }
  const envelope = envelopeOf(header);
  return envelope === undefined ? undefined : { envelope, payload: message.subarray(end) };
}

function headerOf(e: Envelope): unknown[] {
  switch (e.kind) {
    case 'room':
      return [KIND.room, e.origin, e.exclude, e.binary, e.room];
    case 'broadcast':
      return [KIND.broadcast, e.origin, e.exclude, e.binary];
    case 'send':
      return [KIND.send, e.origin, e.clientId, e.binary];
    case 'disconnect':
      return [KIND.disconnect, e.origin, e.clientId, e.code, e.reason];
  }
}

function envelopeOf(h: unknown): Envelope | undefined {
  if (!Array.isArray(h) || typeof h[1] !== 'number') return undefined;
  const origin = h[1];
  switch (h[0]) {
    case KIND.room:
      return isInt(h[2]) && typeof h[3] === 'boolean' && typeof h[4] === 'string'
        ? { kind: 'room', origin, exclude: h[2], binary: h[3], room: h[4] }
        : undefined;
    case KIND.broadcast:
      return isInt(h[2]) && typeof h[3] === 'boolean' ? { kind: 'broadcast', origin, exclude: h[2], binary: h[3] } : undefined;
    case KIND.send:
      return isInt(h[2]) && typeof h[3] === 'boolean' ? { kind: 'send', origin, clientId: h[2], binary: h[3] } : undefined;
    case KIND.disconnect:
      return isInt(h[2]) && isInt(h[3]) && typeof h[4] === 'string'
        ? { kind: 'disconnect', origin, clientId: h[2], code: h[3], reason: h[4] }
        : undefined;
    default:
      return undefined;
  }
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

const EMPTY = new Uint8Array(0);
