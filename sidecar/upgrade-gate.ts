/**
 * The gate every WebSocket upgrade passes: the handshake deadline, then path, origin and
 * `max_clients`, then (in auth mode) a `connection_request` the host accepts or rejects before
 * `auth_timeout_ms`. Upgrades that pass are completed by ws and handed on as connections.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { describeClient, parseRequestUrl } from './client.js';
import type { Logger } from './log.js';
import type { ServerOptions } from './options.js';

/** What the gate asks the server and hands it. */
export interface GateHooks {
  /** Whether the server is listening (not starting, stopping or stopped). */
  isListening(): boolean;
  /** Clients connected now, for `max_clients`. */
  clientCount(): number;
  /** An upgrade ws completed. */
  connected(ws: WebSocket, req: IncomingMessage): void;
}

interface PendingRequest {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  timer: NodeJS.Timeout;
}

/** Where `accept` leaves the host's choice of subprotocol for `handleProtocols`. */
const kChosenSubprotocol = Symbol('chosen-subprotocol');

export class UpgradeGate {
  private readonly emit: (event: AnyEvent) => void;
  private readonly log: Logger;
  private readonly hooks: GateHooks;
  private options: ServerOptions | undefined;
  private wss: WebSocketServer | undefined;
  /** Connection requests waiting for the host's answer (auth mode), by request id. */
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequestId = 1;
  /** Connections that have not finished their upgrade, with their deadline timers. */
  private readonly handshaking = new Map<Duplex, { timer: NodeJS.Timeout; onClose: () => void }>();

  /**
   * @param emit receives `connection_request`, `request_expired` and the gate's error events
   * @param log receives human-readable diagnostics
   */
  constructor(emit: (event: AnyEvent) => void, log: Logger, hooks: GateHooks) {
    this.emit = emit;
    this.log = log;
    this.hooks = hooks;
  }

  /** Connection requests waiting for the host. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Opens the gate with a starting server's options. */
  open(options: ServerOptions): void {
    this.options = options;
    this.wss = createWebSocketServer(options);
  }

  /** Refuses every waiting request with 503 and drops every connection still in its handshake. */
  dropWaiting(): void {
    for (const request of this.pending.values()) {
      clearTimeout(request.timer);
      refuseUpgrade(request.socket, 503, 'Server stopping');
    }
    this.pending.clear();
    for (const [socket, { timer }] of this.handshaking) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.handshaking.clear();
  }

  /** Closes the gate for good (until the next `open`). */
  close(): void {
    this.wss?.close();
    this.wss = undefined;
    this.options = undefined;
  }

  /**
   * Drops a connection that has not finished its upgrade within `timeoutMs` (the
   * `handshake_timeout_ms` of the server it came to), however slowly it trickles bytes.
   */
  trackHandshake(socket: Duplex, timeoutMs: number): void {
    const timer = setTimeout(() => {
      this.handshaking.delete(socket);
      this.log('info', `dropped a connection that did not finish its WebSocket handshake within ${timeoutMs} ms`);
      socket.destroy();
    }, timeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      this.handshaking.delete(socket);
    };
    this.handshaking.set(socket, { timer, onClose });
    socket.once('close', onClose);
  }

  /** Lets an upgrade through, refuses it, or (auth mode) asks the host. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreError); // a reset during the handshake is not the server's problem
    const options = this.options;
    if (!this.hooks.isListening() || options === undefined) {
      refuseUpgrade(socket, 503, 'Server stopping');
      return;
    }
    const url = parseRequestUrl(req.url);
    if (options.path !== '' && url.path !== options.path) {
      this.refuse(socket, 404, 'Not Found', `upgrade to path "${url.path}" refused: the server only accepts "${options.path}"`);
      return;
    }
    const origin = req.headers.origin;
    if (options.allowedOrigins.length > 0 && (origin === undefined || !options.allowedOrigins.includes(origin))) {
      this.refuse(socket, 403, 'Forbidden', `upgrade from origin "${origin ?? '(none)'}" refused: it is not in allowed_origins`);
      return;
    }
    if (options.maxClients > 0 && this.hooks.clientCount() + this.pending.size >= options.maxClients) {
      this.refuse(socket, 503, 'Service Unavailable', `upgrade refused: max_clients (${options.maxClients}) reached`);
      return;
    }
    if (!options.auth || !looksLikeWebSocketUpgrade(req)) {
      // Malformed upgrades go straight to ws, which answers them with the right 4xx.
      this.completeUpgrade(req, socket, head);
      return;
    }
    const id = this.nextRequestId++;
    const timer = setTimeout(() => {
      if (this.pending.delete(id)) {
        this.refuse(socket, 503, 'Service Unavailable', `connection request ${id} was not answered within ${options.authTimeoutMs} ms and was refused`);
        this.emit([Event.REQUEST_EXPIRED, id]);
      }
    }, options.authTimeoutMs);
    this.pending.set(id, { req, socket, head, timer });
    this.stopHandshakeTimer(socket);
    socket.once('close', () => {
      const request = this.pending.get(id);
      if (request !== undefined) {
        clearTimeout(request.timer);
        this.pending.delete(id);
        this.emit([Event.REQUEST_EXPIRED, id]);
      }
    });
    const { subprotocol: _none, ...info } = describeClient(req, url, '');
    this.emit([Event.CONNECTION_REQUEST, id, info]);
  }

  /** Completes a pending upgrade the host approved (auth mode). */
  accept(requestId: number, subprotocol: string): void {
    const request = this.takePending(requestId);
    if (request === undefined) return;
    if (subprotocol !== '') (request.req as unknown as Record<symbol, string>)[kChosenSubprotocol] = subprotocol;
    this.completeUpgrade(request.req, request.socket, request.head);
  }

  /** Refuses a pending upgrade with the host's HTTP status (auth mode). */
  reject(requestId: number, httpStatus: number, reason: string): void {
    const request = this.takePending(requestId);
    if (request === undefined) return;
    const status = httpStatus >= 400 && httpStatus <= 599 ? httpStatus : 403;
    refuseUpgrade(request.socket, status, reason || http.STATUS_CODES[status] || 'Rejected');
  }

  private completeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.wss;
    if (wss === undefined || !this.hooks.isListening()) {
      refuseUpgrade(socket, 503, 'Server stopping');
      return;
    }
    this.stopHandshakeTimer(socket);
    wss.handleUpgrade(req, socket, head, (ws) => this.hooks.connected(ws, req));
  }

  private stopHandshakeTimer(socket: Duplex): void {
    const handshake = this.handshaking.get(socket);
    if (handshake !== undefined) {
      clearTimeout(handshake.timer);
      // Drop the listener too, or every open connection would keep it and its timer alive.
      socket.off('close', handshake.onClose);
      this.handshaking.delete(socket);
    }
  }

  private refuse(socket: Duplex, status: number, statusText: string, why: string): void {
    this.emit([Event.ERROR, ErrorCode.REJECTED_CONNECTION, why, 0]);
    refuseUpgrade(socket, status, statusText);
  }

  private takePending(requestId: number): PendingRequest | undefined {
    const request = this.pending.get(requestId);
    if (request === undefined) {
      this.emit([
        Event.ERROR,
        ErrorCode.UNKNOWN_REQUEST,
        `connection request ${requestId} is not pending: it was already answered, timed out, or the client went away`,
        0,
      ]);
      return undefined;
    }
    clearTimeout(request.timer);
    this.pending.delete(requestId);
    return request;
  }
}

function createWebSocketServer(options: ServerOptions): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: options.maxMessageSize,
    perMessageDeflate: options.permessageDeflate ? { threshold: 256 } : false,
    handleProtocols: (offered: Set<string>, req: IncomingMessage) => {
      const chosen = (req as unknown as Record<symbol, string | undefined>)[kChosenSubprotocol];
      if (chosen !== undefined && offered.has(chosen)) return chosen;
      return options.subprotocols.find((protocol) => offered.has(protocol)) ?? false;
    },
  });
  const extraHeaders = Object.entries(options.responseHeaders).map(([name, value]) => `${name}: ${value}`);
  if (extraHeaders.length > 0) wss.on('headers', (headers: string[]) => headers.push(...extraHeaders));
  return wss;
}

function ignoreError(): void {}

function looksLikeWebSocketUpgrade(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === '13' || version === '8')
  );
}

/** Answers an upgrade request with an HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, statusText: string): void {
  if (socket.writable) {
    const body = `${statusText}\n`;
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? statusText}\r\n` +
        'Connection: close\r\nContent-Type: text/plain\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
