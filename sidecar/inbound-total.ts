/**
 * `max_inbound_total`: the bytes of unfinished incoming messages (what the frames of a message not
 * finished yet declared, counted from each frame's header on) of all clients together. `max_message_size`
 * bounds one client; without this, 300 clients each holding an unfinished message just under it
 * held 300 MiB. The client whose data takes the total past the bound is closed with 1008 and
 * reported (`inbound_overflow`); the others keep their data.
 */
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { closeClient, type Client } from './client.js';
import { unfinishedInboundBytes } from './ws-internals.js';

export class InboundTotal {
  /** `max_inbound_total` of the running server; Infinity when stopped. */
  limit = Infinity;
  /** Unfinished bytes of all clients, as last measured. */
  total = 0;
  private readonly emit: (event: AnyEvent) => void;
  /** Each client's share of `total`, only for clients that hold some. */
  private readonly held = new Map<Client, number>();

  /** @param emit receives the `inbound_overflow` error events */
  constructor(emit: (event: AnyEvent) => void) {
    this.emit = emit;
  }

  /** A message of `client` was completed (a compressed one completes after its read): measure again. */
  settle(client: Client): void {
    if (this.held.has(client)) this.measure(client);
  }

  /** The client is gone: its bytes no longer count. */
  forget(client: Client): void {
    const share = this.held.get(client);
    if (share === undefined) return;
    this.total -= share;
    this.held.delete(client);
  }

  /** Measures `client`; call it after every read of its socket (ws parsed the read just before). */
  measure(client: Client): void {
    const bytes = unfinishedInboundBytes(client.ws);
    const before = this.held.get(client) ?? 0;
    if (bytes === before) return;
    this.total += bytes - before;
    if (bytes === 0) this.held.delete(client);
    else this.held.set(client, bytes);
    if (bytes > before && this.total > this.limit && client.closeCode === undefined) {
      this.emit([
        Event.ERROR,
        ErrorCode.INBOUND_OVERFLOW,
        `client ${client.id} took the unfinished messages of all clients to ${this.total} bytes, past max_inbound_total (${this.limit}), so it was closed with 1008`,
        client.id,
      ]);
      closeClient(client, 1008, 'inbound memory limit exceeded', 0);
      // Read no more of it: libuv reads a socket up to 32 times in one go, and the rest of its
      // message would arrive before the close completes (150 such clients: +90 MiB RSS).
      client.ws.pause();
    }
  }
}
