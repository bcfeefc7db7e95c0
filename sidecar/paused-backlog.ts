/**
 * What a paused client may make the sidecar hold, whatever its compression ratio (PROTOCOL.md,
 * "Backpressure"). A paused socket stops new reads, but ws still parses what it had read, and
 * with permessage-deflate one 64 KiB read inflated to 65 MB: ten paused clients held 650 MiB.
 * So the bound is on decompressed bytes: before more than `bound` bytes of a client's messages
 * could wait (held by the rate limit, or handed to a host that is not reading), its receiver
 * stops inflating, its frames wait compressed, and ws's own backpressure stops reading its socket. The same happens to
 * every paused client while the events waiting for the host reach `max_queued_events`.
 *
 * A rate-limited client is read ahead of its rate, up to `bound` socket bytes (all of them together
 * up to `max_inbound_total`), so a close behind
 * its backlog is seen at once (its socket stays paused for ws: `ws.isPaused`). Once its socket is
 * gone, its held messages go to the host at once; it is inflated on until `bound` bytes wait,
 * and what it sent beyond that is discarded rather than inflated for nobody.
 */
import type { Client } from './client.js';
import { gateInflation, readSocketAhead, retryInflation, socketOf, type InflateVerdict } from './ws-internals.js';

const MiB = 1024 * 1024;

/**
 * Held messages past which a rate-limited client is read ahead no further, whatever their bytes:
 * each costs a parse and a place in the queue, and 1 MiB of tiny messages is some 80,000 of them
 * (a flood read that far ahead doubled the other clients' p99 round trip). About what one socket
 * read of tiny messages held before read-ahead existed.
 */
const READ_AHEAD_MESSAGES = 4096;

export class PausedBacklog {
  /** Decompressed bytes that may wait for one paused client, and socket bytes read ahead of its rate: max(1 MiB, max_message_size). */
  bound = MiB;
  /** `max_message_size`: the most the next message can add once inflated. */
  private largestMessage = MiB;
  private hostPaused = false;
  /** Socket bytes read ahead of all rate-limited clients together, and their bound (`max_inbound_total`). */
  private readAheadTotal = 0;
  private readAheadLimit = Infinity;
  private readonly isQueueFull: () => boolean;

  /** @param isQueueFull whether the events waiting for the host reached `max_queued_events` */
  constructor(isQueueFull: () => boolean = () => false) {
    this.isQueueFull = isQueueFull;
  }

  /** Sets the bound of a starting server. */
  configure(maxMessageSize: number, maxInboundTotal: number): void {
    this.bound = Math.max(MiB, maxMessageSize);
    this.largestMessage = maxMessageSize;
    this.readAheadLimit = maxInboundTotal;
  }

  /** A new client. Returns whether its inflation is gated (it negotiated permessage-deflate). */
  add(client: Client): boolean {
    return client.ws.extensions.includes('permessage-deflate') && gateInflation(client.ws, () => this.verdict(client));
  }

  /** `bytes` of the client's messages went to a host that is not reading. */
  handedToPausedHost(client: Client, bytes: number): void {
    client.pausedBytes += bytes;
  }

  /** The host stopped or resumed reading (the server pauses and resumes the sockets). */
  setHostPaused(paused: boolean, clients: Iterable<Client>): void {
    this.hostPaused = paused;
    if (paused) return;
    for (const client of clients) {
      client.pausedBytes = 0;
      retryInflation(client.ws);
      if (client.rateLimited) this.readAhead(client);
    }
  }

  /** The rate limit started holding the client's messages (and paused its socket for ws). */
  rateLimited(client: Client): void {
    this.forget(client);
    this.readAhead(client);
  }

  /** The rate limit let the client go (it resumed its socket), or the client left: it reads ahead no more. */
  forget(client: Client): void {
    this.readAheadTotal -= client.readAhead;
    client.readAhead = 0;
  }

  /** Fewer of the client's messages wait, or its socket is gone: a waiting frame may go on. */
  wake(client: Client): void {
    retryInflation(client.ws);
  }

  /** ws parsed `bytes` more of the client's socket. */
  afterRead(client: Client, bytes: number): void {
    if (!client.rateLimited) return;
    client.readAhead += bytes;
    this.readAheadTotal += bytes;
    this.readAhead(client);
  }

  /**
   * Keeps a rate-limited client's socket read while the host reads and it is under the bound, and
   * all of them together under `max_inbound_total`: past that, they are paused as before, and a
   * many-client flood holds no more than the limit says (150 clients held 150 MiB without it).
   */
  private readAhead(client: Client): void {
    if (this.hostPaused) return;
    const heldMessages = client.held === undefined ? 0 : client.held.length - client.heldFrom;
    if (client.readAhead < this.bound && this.readAheadTotal < this.readAheadLimit && heldMessages < READ_AHEAD_MESSAGES) {
      readSocketAhead(client.ws);
    } else {
      socketOf(client.ws)?.pause();
    }
  }

  private verdict(client: Client): InflateVerdict {
    // The next message may be as large as max_message_size: inflate only while it cannot take
    // what waits past the bound (at the defaults, one message waits at a time).
    const waiting = client.heldBytes + client.pausedBytes;
    const overBound = waiting > 0 && waiting + this.largestMessage > this.bound;
    const queueFull = this.hostPaused && this.isQueueFull();
    if (!overBound && !queueFull) return 'inflate';
    if (overBound) {
      const socket = socketOf(client.ws);
      if (socket === undefined || socket.destroyed || socket.readableEnded) return 'discard';
    }
    return client.rateLimited || this.hostPaused ? 'wait' : 'inflate';
  }
}
