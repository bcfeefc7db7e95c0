/**
 * One connected client: its record (the socket plus the per-client state of the heartbeat, the
 * fair share and the rate limit), what the host is told about it, and the close the sidecar
 * starts. One flat record per client, so an idle connection costs one small object.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { ClientInfo } from '../protocol/messages.js';

export interface Client {
  id: number;
  ws: WebSocket;
  /**
   * Set when the close handshake started: the code and reason of the client's close frame when it
   * sent one first, else the code the sidecar closed with and why. The first one stays.
   */
  closeCode?: number;
  closeReason?: string;
  /** Ends the TCP connection of a close handshake not finished within `close_timeout_ms`. */
  closeTimer?: NodeJS.Timeout;
  /** When `closeTimer` fires (ms since the epoch), so a shorter deadline can replace it. */
  closeDeadline?: number;
  /** A close frame from the client arrived after ws stopped reading (late-close-frame.ts). */
  lateCloseFrame?: boolean;
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

/** Whether the client's close handshake has started (either side): nothing more is sent to it. */
export function isClosing(client: Client): boolean {
  return client.closeCode !== undefined || client.ws.readyState !== WebSocket.OPEN;
}

/**
 * Starts a close the sidecar initiates, unless one already started (then its code stays: a client's
 * own close frame wins over a later `stop` or `disconnect`). Either way the TCP connection ends
 * within `timeoutMs`, whatever the client does.
 */
export function closeClient(client: Client, code: number, reason: string, timeoutMs: number): void {
  if (client.closeCode === undefined) {
    client.closeCode = code;
    client.closeReason = reason;
  }
  if (client.ws.readyState === WebSocket.OPEN) client.ws.close(code, reason);
  endWithin(client, timeoutMs);
}

/**
 * Ends the client's TCP connection in `timeoutMs` unless its close completes first (the table's
 * close listener clears the timer). ws's own close timer is 30 s and cannot be set: this one
 * enforces `close_timeout_ms`. An earlier deadline replaces a later one.
 */
export function endWithin(client: Client, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  if (client.closeDeadline !== undefined && client.closeDeadline <= deadline) return;
  clearTimeout(client.closeTimer);
  client.closeDeadline = deadline;
  const ws = client.ws;
  client.closeTimer = setTimeout(() => ws.terminate(), timeoutMs);
}

export interface RequestUrl {
  path: string;
  query: string;
}

/**
 * The path and query of a request target. An absolute-form target (`http://host/x?q=1`, RFC 9112
 * §3.2.2) gives the URL's path and query, as the origin-form `/x?q=1` would.
 */
export function parseRequestUrl(raw: string | undefined): RequestUrl {
  let url = raw ?? '/';
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(url);
  if (scheme !== null) {
    url = url.slice(scheme[0].length);
    if (!url.startsWith('/')) url = `/${url}`;
  }
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
