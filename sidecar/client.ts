/**
 * One connected client: its record (the socket plus the per-client state of the heartbeat, the
 * fair share and the rate limit), what the host is told about it, and the close the sidecar
 * starts. One flat record per client, so an idle connection costs one small object.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { ClientInfo } from '../protocol/messages.js';

/** How long a client gets to answer our close frame before its socket is destroyed. */
export const CLOSE_GRACE_MS = 1000;

export interface Client {
  id: number;
  ws: WebSocket;
  /** Set when the sidecar started the close: the code it sent and why. */
  closeCode?: number;
  closeReason?: string;
  /** heartbeat.ts: a ping is in flight. */
  awaitingPong: boolean;
  /** Drops the client if the ping in flight gets no pong; cleared by that pong or the close. */
  pongTimer?: NodeJS.Timeout;
  /** fair-share.ts: messages delivered in the current event-loop turn. */
  turnMessages: number;
  /** rate-limiter.ts: `max_messages_per_second`'s token bucket: messages the client may deliver now, and when that was computed. */
  tokens: number;
  refilledAt: number;
  /** Messages waiting for tokens, oldest first from `heldFrom`; undefined when none wait (see `RateLimiter.admit`). */
  held: HeldMessage[] | undefined;
  heldFrom: number;
  /** The rate limit paused the socket: only the rate limit resumes it, a global resume leaves it. */
  rateLimited: boolean;
  /** Delivers held messages as tokens come back (`RateLimiter.releaseHeld`). */
  releaseTimer: NodeJS.Timeout | undefined;
  /** paused-backlog.ts: bytes of the held messages, and of those handed to a host that is not reading. */
  heldBytes: number;
  pausedBytes: number;
  /** paused-backlog.ts: socket bytes read since the rate limit paused the client. */
  readAhead: number;
}

interface HeldMessage {
  data: Buffer;
  isBinary: boolean;
}

/** A new client's record, its token bucket full (`burst` tokens). */
export function createClient(id: number, ws: WebSocket, burst: number): Client {
  return {
    id,
    ws,
    awaitingPong: false,
    turnMessages: 0,
    tokens: burst,
    refilledAt: 0,
    held: undefined,
    heldFrom: 0,
    rateLimited: false,
    releaseTimer: undefined,
    heldBytes: 0,
    pausedBytes: 0,
    readAhead: 0,
  };
}

/** Starts a close we initiated; the socket is destroyed if the client does not answer in time. */
export function closeClient(client: Client, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
  if (client.closeCode !== undefined && client.ws.readyState !== WebSocket.OPEN) return;
  client.closeCode = code;
  client.closeReason = reason;
  const ws = client.ws;
  if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  const timer = setTimeout(() => ws.terminate(), graceMs);
  ws.once('close', () => clearTimeout(timer));
}

export interface RequestUrl {
  path: string;
  query: string;
}

export function parseRequestUrl(raw: string | undefined): RequestUrl {
  const url = raw ?? '/';
  const mark = url.indexOf('?');
  return mark === -1 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

/** What `connection_request` and `client_connected` tell the host about a client. */
export function describeClient(req: IncomingMessage, url: RequestUrl, subprotocol: string): ClientInfo {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const rawAddress = req.socket.remoteAddress ?? '';
  return {
    address: rawAddress.startsWith('::ffff:') ? rawAddress.slice(7) : rawAddress,
    port: req.socket.remotePort ?? 0,
    path: url.path,
    query: url.query,
    headers,
    subprotocol,
  };
}
