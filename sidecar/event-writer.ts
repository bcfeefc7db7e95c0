/**
 * The single writer of stdout. Events produced during one turn of the event
 * loop are framed into one buffer and written with one `write` (PROTOCOL.md,
 * "Transport"). When the stream reports it is full, `onPressure(true)` lets
 * the server pause its sockets; `onPressure(false)` follows the drain.
 */
import type { Writable } from 'node:stream';
import { LENGTH_PREFIX_BYTES } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { packValue } from '../protocol/msgpack.js';

export class EventWriter {
  private bodies: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private backedUp = false;
  private readonly output: Writable;
  private readonly onPressure: (backedUp: boolean) => void;

  /**
   * @param output the stream frames go to (stdout in production)
   * @param onPressure called with true when `output` stops accepting writes and false once it drained
   */
  constructor(output: Writable, onPressure: (backedUp: boolean) => void = () => {}) {
    this.output = output;
    this.onPressure = onPressure;
  }

  /** True while the output is full and the server should stop reading clients. */
  get isBackedUp(): boolean {
    return this.backedUp;
  }

  /** Queues one event; it is written at the end of the current event-loop turn. */
  write(event: AnyEvent): void {
    const body = packValue(event);
    this.bodies.push(body);
    this.queuedBytes += LENGTH_PREFIX_BYTES + body.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes everything queued now, in one write. Returns the stream's write result. */
  readonly flush = (): boolean => {
    this.flushScheduled = false;
    if (this.bodies.length === 0) return true;
    const frames = Buffer.allocUnsafe(this.queuedBytes);
    let offset = 0;
    for (const body of this.bodies) {
      frames.writeUInt32LE(body.length, offset);
      offset += LENGTH_PREFIX_BYTES;
      offset += body.copy(frames, offset);
    }
    this.bodies = [];
    this.queuedBytes = 0;
    const accepted = this.output.write(frames);
    if (!accepted && !this.backedUp) {
      this.backedUp = true;
      this.onPressure(true);
      this.output.once('drain', () => {
        this.backedUp = false;
        this.onPressure(false);
      });
    }
    return accepted;
  };
}
