/**
 * The inbound rate limit (`max_messages_per_second`, `message_burst`): a token bucket per
 * client. A client out of tokens has its messages held, in order, and its socket paused, so TCP
 * pushes back on it; nothing is dropped. The global pause (the host not reading stdout) pauses
 * sockets too: neither may resume a socket the other still holds.
 */
import type { Client } from './client.js';

/** Hands one client message to the host. */
export type Forward = (client: Client, data: Buffer, isBinary: boolean) => void;

/** Told when a client starts being held, and when fewer of its bytes are (paused-backlog.ts). */
export interface HoldObserver {
  rateLimited(client: Client): void;
  wake(client: Client): void;
  /** The rate limit resumed the client's socket. */
  forget(client: Client): void;
}

export class RateLimiter {
  /** Messages per second each client may deliver; 0: no limit (`admit` is then never called). */
  rate = 0;
  /** Tokens a client's bucket holds at most, and a new client starts with. */
  burst = 0;
  private readonly forward: Forward;
  private readonly isHostPaused: () => boolean;
  private readonly observer: HoldObserver | undefined;

  /**
   * @param forward delivers an admitted or released message to the host
   * @param isHostPaused whether the host is not reading (then a global resume, not this, resumes sockets)
   * @param observer told when a client starts being held and when its held bytes shrink
   */
  constructor(forward: Forward, isHostPaused: () => boolean, observer?: HoldObserver) {
    this.forward = forward;
    this.isHostPaused = isHostPaused;
    this.observer = observer;
  }

  /** Sets the limit of a starting server: `burst` 0 means one second's worth of messages. */
  configure(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst === 0 ? rate : burst;
  }

  /** No limit (a stopped server). */
  reset(): void {
    this.rate = 0;
    this.burst = 0;
  }

  /**
   * Takes a token for a message of `client`, or holds the message when none is left or older
   * messages already wait. Holding pauses the socket, so TCP pushes back on the client; messages ws
   * had already parsed from the last read still arrive and queue behind, in order. Nothing is
   * dropped: `releaseHeld` hands them over as tokens come back. Returns whether the message goes now.
   */
  admit(client: Client, data: Buffer, isBinary: boolean): boolean {
    if (client.held === undefined) {
      this.refill(client);
      if (client.tokens >= 1) {
        client.tokens--;
        return true;
      }
      client.held = [];
      if (!client.rateLimited) {
        client.rateLimited = true;
        client.ws.pause();
        this.observer?.rateLimited(client);
      }
      if (client.releaseTimer === undefined) this.scheduleRelease(client);
    }
    client.held.push({ data, isBinary });
    client.heldBytes += data.length;
    return false;
  }

  /** The client is gone: stops its release timer and delivers every held message at once, tokens or not. */
  releaseAll(client: Client): void {
    clearTimeout(client.releaseTimer);
    if (client.held === undefined) return;
    const held = client.held;
    for (let next = client.heldFrom; next < held.length; next++) this.forward(client, held[next]!.data, held[next]!.isBinary);
    client.held = undefined;
    client.heldFrom = 0;
    client.heldBytes = 0;
  }

  private refill(client: Client): void {
    const now = performance.now();
    const tokens = client.tokens + ((now - client.refilledAt) * this.rate) / 1000;
    client.tokens = tokens < this.burst ? tokens : this.burst;
    client.refilledAt = now;
  }

  /** Wakes `releaseHeld` when the client's next token is due. */
  private scheduleRelease(client: Client): void {
    const waitMs = Math.max(1, Math.ceil(((1 - client.tokens) * 1000) / this.rate));
    client.releaseTimer = setTimeout(this.releaseHeld, waitMs, client);
  }

  /**
   * Delivers as many held messages as the client has tokens for, oldest first. Once none wait and
   * a token is there, reading resumes, unless the host is not reading (`isHostPaused`): then the
   * global resume does it.
   */
  private readonly releaseHeld = (client: Client): void => {
    client.releaseTimer = undefined;
    this.refill(client);
    const held = client.held;
    if (held !== undefined) {
      let next = client.heldFrom;
      for (; next < held.length && client.tokens >= 1; next++) {
        client.tokens--;
        const message = held[next]!;
        held[next] = undefined!; // released: not kept in memory until the whole queue is
        client.heldBytes -= message.data.length;
        this.forward(client, message.data, message.isBinary);
      }
      if (next < held.length) {
        client.heldFrom = next;
      } else {
        client.held = undefined;
        client.heldFrom = 0;
      }
      this.observer?.wake(client);
    }
    if (client.held === undefined && client.tokens >= 1) {
      client.rateLimited = false;
      this.observer?.forget(client);
      if (!this.isHostPaused()) client.ws.resume();
      return;
    }
    this.scheduleRelease(client);
  };
}
