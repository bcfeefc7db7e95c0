/**
 * The single writer of stdout. Events produced during one turn of the event
 * loop are framed into one buffer and written with one `write` (PROTOCOL.md,
 * "Transport"). When more than `pauseAtBytes` wait in the stream (the host
 * is not keeping up), `onPressure(true)` lets the server pause its sockets;
 * `onPressure(false)` follows the drain.
 */
import type { Writable } from 'node:stream';
import { FrameBatch } from '../protocol/frame-batch.js';
import type { AnyEvent } from '../protocol/messages.js';

/** What the server may know and set about the events waiting for the host. */
export interface EventQueue {
  /** Bytes written but not taken by the host yet. */
  readonly queuedBytes: number;
  /** `max_queued_events`: the writer reports pressure by this many queued bytes at the latest. */
  maxQueuedBytes: number;
  /** Whether `maxQueuedBytes` wait: no paused client is inflated further. */
  readonly isFull: boolean;
}

export class EventWriter implements EventQueue {
  maxQueuedBytes = Infinity;
  private readonly batch = new FrameBatch(() => this.flush());
  private backedUp = false;
  private readonly output: Writable;
  private readonly onPressure: (backedUp: boolean) => void;
  private readonly pauseAtBytes: number;

  /**
   * @param output the stream frames go to (stdout in production)
   * @param onPressure called with true once more than `pauseAtBytes` wait in `output`, and with false once it drained
   * @param pauseAtBytes bytes waiting in `output` that count as "the host is not keeping up"; default 1 MiB.
   *   Not the stream's 16 KiB high-water mark: one 64 KiB message would pause every client, and a
   *   pipe that a host empties once per game frame would stall them on every frame.
   */
  constructor(output: Writable, onPressure: (backedUp: boolean) => void = () => {}, pauseAtBytes = 1024 * 1024) {
    if (!Number.isInteger(pauseAtBytes) || pauseAtBytes < 1) throw new TypeError('pauseAtBytes must be a positive integer');
    this.output = output;
    this.onPressure = onPressure;
    this.pauseAtBytes = pauseAtBytes;
  }

  get queuedBytes(): number {
    return this.output.writableLength;
  }

  get isFull(): boolean {
    return this.output.writableLength >= this.maxQueuedBytes;
  }

  /** True while the output is full and the server should stop reading clients. */
  get isBackedUp(): boolean {
    return this.backedUp;
  }

  /** Queues one event; it is written at the end of the current event-loop turn. */
  write(event: AnyEvent): void {
    this.batch.pushValue(event);
  }

  /**
   * Queues `[op, clientId, data]` for a client message (`text` with its UTF-8 bytes as str, or
   * `binary` as bin) without decoding the text or copying the bytes into a msgpack buffer first.
   * The bytes are those of `packValue` for the same value (smallest headers, PROTOCOL.md; a
   * cluster id past 32 bits as int64, as packValue writes it).
   */
  writeClientMessage(op: number, clientId: number, data: Uint8Array, isText: boolean): void {
    this.batch.pushMessage(op, clientId, data, isText);
  }

  /**
   * Writes `event` at once, after everything queued before it, instead of at the end of the turn:
   * for `consumed`, which is worth most when it arrives before the work its commands cause
   * (PROTOCOL.md, "Stdin credit").
   */
  writeNow(event: AnyEvent): void {
    this.batch.pushValue(event);
    this.flush();
  }

  /** Writes everything queued now, in one write. Returns the stream's write result. */
  readonly flush = (): boolean => {
    const frames = this.batch.take();
    if (frames === undefined) return true;
    const accepted = this.output.write(frames);
    // Only a write that returned false is sure to be followed by 'drain'.
    if (!accepted && !this.backedUp && this.output.writableLength >= Math.min(this.pauseAtBytes, this.maxQueuedBytes)) {
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
