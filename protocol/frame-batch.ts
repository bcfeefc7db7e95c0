/**
 * Frames queued during one turn of the event loop, copied once into one
 * buffer for one `write` (PROTOCOL.md, "Transport"). The sidecar's event
 * writer and the TypeScript host both batch their output with it.
 */
import { LENGTH_PREFIX_BYTES } from './constants.js';
import { encodeMessageHead } from './message-codec.js';
import { packValue } from './msgpack.js';

/**
 * A queued piece: a msgpack body to frame; a client message's msgpack head and its own bytes (or
 * text, encoded straight into the batch) to frame; or raw bytes written as they are.
 */
type Piece = { body: Buffer } | { head: Buffer; data: Uint8Array | string; length: number } | { raw: Buffer };

export class FrameBatch {
  private pieces: Piece[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private readonly flush: () => void;

  /** @param flush called at the end of the turn in which the first piece was queued; it calls `take()`. */
  constructor(flush: () => void) {
    this.flush = flush;
  }

  /** Queues `value` as one frame. */
  pushValue(value: unknown): void {
    const body = packValue(value);
    this.push({ body }, LENGTH_PREFIX_BYTES + body.length);
  }

  /**
   * Queues `[op, clientId, data]` for a client message (text as str, bytes as bin) without building
   * the msgpack value first. The bytes are those of `packValue` for the same value (smallest headers).
   */
  pushMessage(op: number, clientId: number, data: Uint8Array | string, isText: boolean): void {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const head = encodeMessageHead(op, clientId, length, isText);
    this.push({ head, data, length }, LENGTH_PREFIX_BYTES + head.length + length);
  }

  /** Queues bytes that are written exactly as given, framed or not (for tests of broken framing). */
  pushRaw(raw: Buffer): void {
    this.push({ raw }, raw.length);
  }

  /** Everything queued, as one buffer, or undefined when nothing is; the batch starts over empty. */
  take(): Buffer | undefined {
    this.flushScheduled = false;
    if (this.pieces.length === 0) return undefined;
    const out = Buffer.allocUnsafe(this.queuedBytes);
    let offset = 0;
    for (const piece of this.pieces) {
      if ('raw' in piece) {
        offset += piece.raw.copy(out, offset);
      } else if ('body' in piece) {
        out.writeUInt32LE(piece.body.length, offset);
        offset += LENGTH_PREFIX_BYTES;
        offset += piece.body.copy(out, offset);
      } else {
        out.writeUInt32LE(piece.head.length + piece.length, offset);
        offset += LENGTH_PREFIX_BYTES;
        offset += piece.head.copy(out, offset);
        if (typeof piece.data === 'string') out.write(piece.data, offset);
        else out.set(piece.data, offset);
        offset += piece.length;
      }
    }
    this.pieces = [];
    this.queuedBytes = 0;
    return out;
  }

  private push(piece: Piece, bytes: number): void {
    this.pieces.push(piece);
    this.queuedBytes += bytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }
}
