/**
 * Heartbeats: every `heartbeat_interval_ms` each open client without a ping in flight gets one;
 * a client that does not answer it within `heartbeat_timeout_ms` is reported
 * (`heartbeat_timeout`) and dropped, and its disconnect says 1006. While the sidecar has paused
 * every socket for a host that is not reading, pongs cannot be read: the deadlines are suspended
 * and restart in full when reading resumes, so a host's stall never costs a client its connection.
 */
import { WebSocket } from 'ws';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import type { Client } from './client.js';

export class Heartbeat {
  private readonly clients: ReadonlyMap<number, Client>;
  private readonly emit: (event: AnyEvent) => void;
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs = 0;
  /** The sockets are paused for the host (`suspend`): no pings, no deadlines. */
  private suspended = false;

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
    this.timeoutMs = timeoutMs;
    this.timer = setInterval(() => {
      if (this.suspended) return;
      for (const client of this.clients.values()) {
        if (client.awaitingPong || client.ws.readyState !== WebSocket.OPEN) continue;
        client.awaitingPong = true;
        client.ws.ping();
        this.armDeadline(client, false);
      }
    }, intervalMs);
  }

  /**
   * Suspends (true) or restarts (false) the pong deadlines, as the sockets are paused for the host
   * and resumed. A ping in flight keeps its flag; its pong, read after the resume, clears it, or
   * the client gets a full `heartbeat_timeout_ms` from the resume.
   */
  suspend(suspended: boolean): void {
    if (this.suspended === suspended) return;
    this.suspended = suspended;
    for (const client of this.clients.values()) {
      if (!client.awaitingPong) continue;
      clearTimeout(client.pongTimer);
      client.pongTimer = undefined;
      if (!suspended && this.timer !== undefined) this.armDeadline(client, true);
    }
  }

  /**
   * Drops `client` if its ping in flight is not answered within the timeout. The pong clears this
   * timer, so it can only judge its own ping: with a timeout longer than the interval, checking
   * the flag alone dropped clients whose newer ping was still in flight.
   */
  private armDeadline(client: Client, afterResume: boolean): void {
    const armedAt = Date.now();
    client.pongTimer = setTimeout(() => {
      if (!client.awaitingPong || client.ws.readyState !== WebSocket.OPEN || !this.clients.has(client.id)) return;
      client.closeCode = 1006;
      client.closeReason = 'heartbeat timeout';
      this.emit([
        Event.ERROR,
        ErrorCode.HEARTBEAT_TIMEOUT,
        `client ${client.id} did not answer a ping ${afterResume ? 'within' : 'sent'} ${Date.now() - armedAt} ms ${afterResume ? 'after reading resumed' : 'ago'} and was dropped`,
        client.id,
      ]);
      client.ws.terminate();
    }, this.timeoutMs);
  }

  /** Stops beating; pings in flight keep their timers (a client's close clears its own). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.suspended = false;
  }
}

/** A client answered its ping. */
export function pongReceived(client: Client): void {
  client.awaitingPong = false;
  clearTimeout(client.pongTimer);
}
