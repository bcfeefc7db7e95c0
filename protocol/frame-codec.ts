/**
 * Length-prefixed framing (PROTOCOL.md, "Transport"): a 4-byte little-endian
 * length, then that many bytes of one MessagePack value. Transport-agnostic:
 * feed it whatever chunks a stream delivers.
 */
import { LENGTH_PREFIX_BYTES, MAX_FRAME_LENGTH } from './constants.js';
import { packValue } from './msgpack.js';

/** Thrown when a length prefix is 0 or above `MAX_FRAME_LENGTH`: the stream is broken beyond repair. */
export class FrameLengthError extends Error {
  readonly length: number;

  constructor(length: number) {
    super(
      `impossible frame length ${length} (frames hold 1 to ${MAX_FRAME_LENGTH} bytes): ` +
        'the stream is out of step or not speaking this protocol',
    );
    this.name = 'FrameLengthError';
    this.length = length;
  }
}

/** Encodes one value as a complete frame, prefix included. */
export function encodeFrame(value: unknown): Buffer {
  const body = packValue(value);
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, LENGTH_PREFIX_BYTES);
  return frame;
}

/**
 * Reassembles frame bodies from arbitrary chunks. Bodies handed out are views
 * into buffers the decoder never writes to again, so callers may keep them.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total bytes (prefix included) of the incomplete frame at the head, once its prefix is known. */
  private bytesNeeded = 0;
  private readonly maxFrameLength: number;
  private broken: FrameLengthError | undefined;

  /**
   * @param maxFrameLength largest body accepted; default `MAX_FRAME_LENGTH` (256 MiB)
   */
  constructor(maxFrameLength: number = MAX_FRAME_LENGTH) {
    if (!Number.isInteger(maxFrameLength) || maxFrameLength < 1 || maxFrameLength > MAX_FRAME_LENGTH) {
      throw new TypeError(`maxFrameLength must be an integer from 1 to ${MAX_FRAME_LENGTH}`);
    }
    this.maxFrameLength = maxFrameLength;
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** The impossible length prefix that broke the stream, once one was read; every later push throws it. */
  get failure(): FrameLengthError | undefined {
    return this.broken;
  }

  /**
   * Adds a chunk and returns every frame body it completed, in order. When an impossible length
   * prefix follows complete frames, those frames are still returned (PROTOCOL.md: every complete
   * frame before it is executed) and `failure` holds the error.
   * @throws FrameLengthError when the stream was broken before this chunk, or the chunk's first
   *   new prefix is impossible (no frame to return)
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.broken !== undefined) throw this.broken;
    if (chunk.length === 0) return [];
    this.pending.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.pendingBytes += chunk.length;
    // While a known frame is still incomplete, only collect: concatenating on
    // every chunk would make a large frame cost quadratic time.
    if (this.pendingBytes < this.bytesNeeded) return [];

    const buffer = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.bytesNeeded = 0;

    const frames: Buffer[] = [];
    let offset = 0;
    while (buffer.length - offset >= LENGTH_PREFIX_BYTES) {
      const length = buffer.readUInt32LE(offset);
      if (length === 0 || length > this.maxFrameLength) {
        this.broken = new FrameLengthError(length);
        if (frames.length === 0) throw this.broken;
        return frames;
      }
      const end = offset + LENGTH_PREFIX_BYTES + length;
      if (end > buffer.length) {
        this.bytesNeeded = end - offset;
        break;
      }
      frames.push(buffer.subarray(offset + LENGTH_PREFIX_BYTES, end));
      offset = end;
    }
    if (offset < buffer.length) {
      // Copy the tail so a large chunk is not pinned in memory by a few leftover bytes.
      const rest = offset === 0 ? buffer : Buffer.from(buffer.subarray(offset));
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return frames;
  }
}
