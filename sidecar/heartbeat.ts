/**
 * Heartbeats: every `heartbeat_interval_ms` each open client without a ping in flight gets one;
 * a client that does not answer it within `heartbeat_timeout_ms` is reported
 * (`heartbeat_timeout`) and dropped, and its disconnect says 1006.
 */
import { WebSocket } from 'ws';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import type { Client } from './client.js';

export class Heartbeat {
  private readonly clients: ReadonlyMap<number, Client>;
  private readonly emit: (event: AnyEvent) => void;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param clients the connected clients, by id (read on every beat)
   * @param emit receives the `heartbeat_timeout` error events
   */
  constructor(clients: ReadonlyMap<number, Client>, emit: (event: AnyEvent) => void) {
    this.clients = clients;
    this.emit = emit;
  }

  /** Starts beating; an interval of 0 means no heartbeats. */
  start(intervalMs: number, timeoutMs: number): void {
    if (intervalMs === 0) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const client of this.clients.values()) {
        if (client.awaitingPong || client.ws.readyState !== WebSocket.OPEN) continue;
        client.awaitingPong = true;
        client.ws.ping();
        // The pong clears this timer, so it can only judge its own ping: with a timeout longer than
        // the interval, checking the flag alone dropped clients whose newer ping was still in flight.
        client.pongTimer = setTimeout(() => {
          if (!client.awaitingPong || client.ws.readyState !== WebSocket.OPEN || !this.clients.has(client.id)) return;
          client.closeCode = 1006;
          client.closeReason = 'heartbeat timeout';
          this.emit([
            Event.ERROR,
            ErrorCode.HEARTBEAT_TIMEOUT,
            `client ${client.id} did not answer a ping sent ${Date.now() - now} ms ago and was dropped`,
            client.id,
          ]);
          client.ws.terminate();
        }, timeoutMs);
      }
    }, intervalMs);
  }

  /** Stops beating; pings in flight keep their timers (a client's close clears its own). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** A client answered its ping. */
export function pongReceived(client: Client): void {
  client.awaitingPong = false;
  clearTimeout(client.pongTimer);
}
