/**
 * Stdin credit (PROTOCOL.md, "Stdin credit"): with `--stdin-credit`, every
 * read from stdin is answered by a `consumed` event carrying the total number
 * of stdin bytes read so far, so a host whose writes block can keep what it
 * has in flight below what the pipe surely holds.
 */
import { Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';

export class StdinCredit {
  private total = 0;
  private readonly emit: (event: AnyEvent) => void;

  /** @param emit receives one `consumed` event per call of `read` */
  constructor(emit: (event: AnyEvent) => void) {
    this.emit = emit;
  }

  /** Bytes of stdin read so far. */
  get consumed(): number {
    return this.total;
  }

  /** Counts `bytes` just read from stdin and queues `consumed` with the new total. */
  read(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0) throw new TypeError('bytes must be a non-negative integer');
    this.total += bytes;
    this.emit([Event.CONSUMED, this.total]);
  }
}
