/**
 * Fairness between clients on the way in: a client may deliver `FAIR_SHARE_PER_TURN` messages
 * per event-loop turn before its next ones wait for later turns. ws parses everything a socket
 * read brought (64 KiB: thousands of tiny messages) in one go, so without a share one flooding
 * client put its whole batch ahead of every other client's message, on stdout and at the host.
 */
import type { Client } from './client.js';
import { deferReceiverEvents, restoreReceiverEvents, type DeferredReceiver } from './ws-internals.js';

/** Messages one client may deliver per event-loop turn. */
const FAIR_SHARE_PER_TURN = 16;

export class FairShare {
  /** Clients that delivered messages this turn, and the receivers told to wait. */
  private readonly countedThisTurn: Client[] = [];
  private readonly throttled: DeferredReceiver[] = [];

  /**
   * Counts one message of `client`. Past its share, the client's ws receiver switches to ws's
   * own `allowSynchronousEvents: false` mode (each message deferred with setImmediate) until the
   * turn ends, so other sockets are read in between. Turning that mode on for every client would
   * cost every burst a setImmediate per message; this costs nothing below the share. A ws without
   * the internal flag simply gets no fairness.
   */
  count(client: Client): void {
    if (client.turnMessages++ === 0) {
      this.countedThisTurn.push(client);
      if (this.countedThisTurn.length === 1) setImmediate(this.endTurn);
    }
    if (client.turnMessages === FAIR_SHARE_PER_TURN) {
      const receiver = deferReceiverEvents(client.ws);
      if (receiver !== undefined) this.throttled.push(receiver);
    }
  }

  /** Runs before the messages deferred in this turn (it was scheduled before them). */
  private readonly endTurn = (): void => {
    for (const client of this.countedThisTurn) client.turnMessages = 0;
    this.countedThisTurn.length = 0;
    for (const receiver of this.throttled) restoreReceiverEvents(receiver);
    this.throttled.length = 0;
  };
}
