/**
 * The WebSocket server the host drives: an HTTP(S) server whose upgrades are
 * handed to `ws`, plus the client table, rooms, auth requests, heartbeats and
 * backpressure. It knows nothing about stdio: it reports through `emit` and
 * is told what to do through its methods, so tests can drive it directly.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { ErrorCode, Event, PROTOCOL_VERSION } from '../protocol/constants.js';
import type { AnyEvent, ClientInfo, Stats } from '../protocol/messages.js';
import { describeListenError, describeTlsInvalid, describeTlsReadError, type StartFailure } from './listen-errors.js';
import type { Logger } from './log.js';
import { InvalidOptionError, resolveOptions, type ServerOptions } from './options.js';
import { RoomRegistry } from './room-registry.js';
import { closeCodeForError, isValidCloseCode } from './close-codes.js';

/** How long a client gets to answer our close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;
/** RFC 6455 §5.5: a close frame's payload, code included, is at most 125 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

interface Client {
  id: number;
  ws: WebSocket;
  /** Set when the sidecar started the close: the code it sent and why. */
  closeCode?: number;
  closeReason?: string;
  awaitingPong: boolean;
  /** Drops the client if the ping in flight gets no pong; cleared by that pong or the close. */
  pongTimer?: NodeJS.Timeout;
  /** Messages delivered in the current event-loop turn (see `countForFairness`). */
  turnMessages: number;
  /** `max_messages_per_second`'s token bucket: messages the client may deliver now, and when that was computed. */
  tokens: number;
  refilledAt: number;
  /** Messages waiting for tokens, oldest first from `heldFrom`; undefined when none wait (see `admit`). */
  held: HeldMessage[] | undefined;
  heldFrom: number;
  /** The rate limit paused the socket: only the rate limit resumes it, a global resume leaves it. */
  rateLimited: boolean;
  /** Delivers held messages as tokens come back (`releaseHeld`). */
  releaseTimer: NodeJS.Timeout | undefined;
}

interface HeldMessage {
  data: Buffer;
  isBinary: boolean;
}

/**
 * Messages one client may deliver per event-loop turn. ws parses everything a socket read
 * brought (64 KiB: thousands of tiny messages) in one go, so without a share one flooding client
 * put its whole batch ahead of every other client's message, on stdout and at the host.
 */
const FAIR_SHARE_PER_TURN = 16;

interface ReceiverInternals {
  _allowSynchronousEvents?: boolean;
}

interface PendingRequest {
  id: number;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  timer: NodeJS.Timeout;
}

type State = 'idle' | 'starting' | 'listening' | 'stopping';

const kChosenSubprotocol = Symbol('chosen-subprotocol');
const kClient = Symbol('client');

/**
 * Receives `text`/`binary` events as raw bytes (ws already checked text is UTF-8), so the
 * writer can frame them without decoding the text or copying the bytes twice
 * (EventWriter.writeClientMessage). Without one, they go through `emit` as values.
 */
export type ClientMessageSink = (op: number, clientId: number, data: Uint8Array, isText: boolean) => void;
type ClientSocket = WebSocket & { [kClient]: Client };

export class SidecarServer {
  private readonly emit: (event: AnyEvent) => void;
  private readonly emitMessage: ClientMessageSink | undefined;
  private readonly log: Logger;
  private state: State = 'idle';
  private options: ServerOptions | undefined;
  private httpServer: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly clients = new Map<number, Client>();
  private readonly rooms = new RoomRegistry();
  private readonly pending = new Map<number, PendingRequest>();
  /** Connections that have not finished their upgrade, with their deadline timers. */
  private readonly handshaking = new Map<Duplex, { timer: NodeJS.Timeout; onClose: () => void }>();
  private nextClientId = 1;
  private nextRequestId = 1;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private paused = false;
  /** `max_messages_per_second` of the running server (0: no limit) and its bucket size. */
  private messageRate = 0;
  private messageBurst = 0;
  private readonly startedAt = Date.now();
  private readonly counters = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  private stopWaiters: Array<() => void> = [];
  /** Client sockets corked during this turn (see `corkForThisTurn`). */
  private readonly corked = new Map<Socket, Client>();
  /** Clients that delivered messages this turn, and those whose receiver was told to wait. */
  private readonly countedThisTurn: Client[] = [];
  private readonly throttled: ReceiverInternals[] = [];

  /**
   * @param emit receives every event, in order
   * @param log receives human-readable diagnostics (stderr in production)
   */
  constructor(emit: (event: AnyEvent) => void, log: Logger, emitMessage?: ClientMessageSink) {
    this.emit = emit;
    this.log = log;
    this.emitMessage = emitMessage;
  }

  get isListening(): boolean {
    return this.state === 'listening';
  }

  /** Handles `start`: reports `listening` or `start_failed`. */
  start(protocolVersion: number, rawOptions: Record<string, unknown>): void {
    if (protocolVersion !== PROTOCOL_VERSION) {
      this.failStart({
        code: ErrorCode.PROTOCOL_MISMATCH,
        message:
          `the host speaks protocol ${protocolVersion}, this sidecar speaks protocol ${PROTOCOL_VERSION}: ` +
          'use the sidecar binary that shipped with your addon version',
      });
      return;
    }
    if (this.state !== 'idle') {
      this.failStart({
        code: ErrorCode.ALREADY_LISTENING,
        message: `the server is already ${this.state === 'listening' ? 'listening' : this.state}: stop it before starting it again`,
      });
      return;
    }
    let options: ServerOptions;
    try {
      options = resolveOptions(rawOptions);
    } catch (error) {
      if (error instanceof InvalidOptionError) {
        this.failStart({ code: ErrorCode.INVALID_OPTION, message: error.message });
        return;
      }
      throw error;
    }
    const server = this.createHttpServer(options);
    if ('code' in server) {
      this.failStart(server);
      return;
    }
    this.state = 'starting';
    this.options = options;
    this.messageRate = options.maxMessagesPerSecond;
    this.messageBurst = options.messageBurst === 0 ? options.maxMessagesPerSecond : options.messageBurst;
    this.httpServer = server;
    this.wss = this.createWebSocketServer(options);

    const onListenError = (error: NodeJS.ErrnoException): void => {
      this.teardown();
      this.failStart(describeListenError(error, options.port, options.host));
    };
    server.once('error', onListenError);
    server.listen({ port: options.port, host: options.host, backlog: 511 }, () => {
      server.off('error', onListenError);
      if (this.httpServer !== server) {
        // A stop (or stdin EOF) arrived before the port was bound: release it at once.
        server.close();
        return;
      }
      server.on('error', (error) => this.log('error', `server error: ${error.message}`));
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      this.state = 'listening';
      this.startHeartbeat();
      this.log('info', `listening on ${options.tlsCertPath ? 'wss' : 'ws'}://${options.host}:${port}${options.path}`);
      this.emit([Event.LISTENING, port, options.host, options.tlsCertPath !== '']);
    });
  }

  /** Handles `stop`: closes every client with 1001, stops listening, then reports `stopped`. */
  async stop(): Promise<void> {
    if (this.state === 'idle') {
      this.emit([Event.STOPPED]);
      return;
    }
    await this.closeEverything(1001, 'server stopping');
    this.emit([Event.STOPPED]);
  }

  /** Sends text to one client. */
  sendText(clientId: number, text: string): void {
    const client = this.requireClient(clientId);
    if (client !== undefined) this.deliver(client, Buffer.from(text), false);
  }

  /** Sends binary data to one client. */
  sendBinary(clientId: number, data: Uint8Array): void {
    const client = this.requireClient(clientId);
    if (client !== undefined) this.deliver(client, data, true);
  }

  /** Sends bytes as a text (UTF-8, already checked) or binary message to one client. */
  sendBytes(clientId: number, data: Uint8Array, binary: boolean): void {
    const client = this.requireClient(clientId);
    if (client !== undefined) this.deliver(client, data, binary);
  }

  /** Sends to every client but `exclude` (0 for none). */
  broadcast(payload: string | Uint8Array, exclude: number): void {
    if (!this.requireListening('broadcast')) return;
    const [data, binary] = toPayload(payload);
    const frame = this.sharedFrame(data, binary);
    for (const client of this.clients.values()) {
      if (client.id !== exclude) this.deliver(client, data, binary, frame);
    }
  }

  /** Sends to every member of `room` but `exclude` (0 for none). */
  broadcastToRoom(room: string, payload: string | Uint8Array, exclude: number): void {
    if (!this.requireListening('room broadcast')) return;
    const [data, binary] = toPayload(payload);
    const frame = this.sharedFrame(data, binary);
    for (const id of this.rooms.clientsIn(room)) {
      const client = this.clients.get(id);
      if (client !== undefined && id !== exclude) this.deliver(client, data, binary, frame);
    }
  }

  joinRoom(clientId: number, room: string): void {
    if (this.requireClient(clientId) !== undefined) this.rooms.join(clientId, room);
  }

  leaveRoom(clientId: number, room: string): void {
    if (this.requireClient(clientId) !== undefined) this.rooms.leave(clientId, room);
  }

  /** Closes one client with the host's code and reason. */
  disconnect(clientId: number, code: number, reason: string): void {
    const client = this.requireClient(clientId);
    if (client === undefined) return;
    if (!isValidCloseCode(code)) {
      this.error(ErrorCode.INVALID_ARGUMENT, `close code ${code} cannot be sent: use 1000 or a code from 3000 to 4999`, clientId);
      return;
    }
    if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
      this.error(ErrorCode.INVALID_ARGUMENT, `close reason is ${Buffer.byteLength(reason)} bytes; the limit is ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`, clientId);
      return;
    }
    this.closeClient(client, code, reason);
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

  /** Counters for `stats`. */
  stats(): Stats {
    return {
      clients: this.clients.size,
      rooms: this.rooms.size,
      pending_requests: this.pending.size,
      messages_in: this.counters.messagesIn,
      messages_out: this.counters.messagesOut,
      bytes_in: this.counters.bytesIn,
      bytes_out: this.counters.bytesOut,
      rss: process.memoryUsage.rss(),
      uptime_ms: Date.now() - this.startedAt,
      paused: this.paused,
    };
  }

  /**
   * Pauses or resumes reading from every client socket. Called when stdout
   * backs up, so TCP pushes back on clients instead of the sidecar buffering
   * their messages without bound. A client the rate limit paused stays paused.
   */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    for (const client of this.clients.values()) {
      if (paused) client.ws.pause();
      else if (!client.rateLimited) client.ws.resume();
    }
    this.log('info', paused ? 'host is not reading: client sockets paused' : 'host caught up: client sockets resumed');
  }

  /**
   * Ends everything for process exit: clients get 1001 and at most
   * `graceMs` to answer before their sockets are destroyed.
   */
  async shutdown(graceMs = 500): Promise<void> {
    if (this.state === 'idle') return;
    await this.closeEverything(1001, 'server shutting down', graceMs);
  }

  // ---- upgrades -------------------------------------------------------------

  private createHttpServer(options: ServerOptions): Server | StartFailure {
    const onRequest = (req: IncomingMessage, res: http.ServerResponse): void => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
      res.end('This is a WebSocket server: connect with a WebSocket client.\n');
    };
    let server: Server;
    if (options.tlsCertPath !== '') {
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = readFileSync(options.tlsCertPath);
      } catch (error) {
        return describeTlsReadError(error as NodeJS.ErrnoException, 'certificate', options.tlsCertPath);
      }
      try {
        key = readFileSync(options.tlsKeyPath);
      } catch (error) {
        return describeTlsReadError(error as NodeJS.ErrnoException, 'key', options.tlsKeyPath);
      }
      try {
        server = https.createServer({ cert, key, minVersion: 'TLSv1.2', handshakeTimeout: options.handshakeTimeoutMs }, onRequest);
      } catch (error) {
        return describeTlsInvalid(error as Error, options.tlsCertPath, options.tlsKeyPath);
      }
      server.on('secureConnection', (socket: Socket) => this.trackHandshake(socket, options));
      server.on('tlsClientError', (error: Error) => this.log('info', `TLS handshake failed: ${error.message}`));
    } else {
      server = http.createServer(onRequest);
      server.on('connection', (socket: Socket) => this.trackHandshake(socket, options));
    }
    server.headersTimeout = options.handshakeTimeoutMs;
    server.requestTimeout = options.handshakeTimeoutMs;
    server.on('clientError', (_error: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    return server;
  }

  private createWebSocketServer(options: ServerOptions): WebSocketServer {
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

  /** Drops a connection that has not finished its upgrade in time, however slowly it trickles bytes. */
  private trackHandshake(socket: Duplex, options: ServerOptions): void {
    const timer = setTimeout(() => {
      this.handshaking.delete(socket);
      this.log('info', `dropped a connection that did not finish its WebSocket handshake within ${options.handshakeTimeoutMs} ms`);
      socket.destroy();
    }, options.handshakeTimeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      this.handshaking.delete(socket);
    };
    this.handshaking.set(socket, { timer, onClose });
    socket.once('close', onClose);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreError); // a reset during the handshake is not the server's problem
    const options = this.options;
    if (this.state !== 'listening' || options === undefined) {
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
    if (options.maxClients > 0 && this.clients.size + this.pending.size >= options.maxClients) {
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
    this.pending.set(id, { id, req, socket, head, timer });
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

  private completeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.wss;
    if (wss === undefined || this.state !== 'listening') {
      refuseUpgrade(socket, 503, 'Server stopping');
      return;
    }
    this.stopHandshakeTimer(socket);
    wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
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
    this.error(ErrorCode.REJECTED_CONNECTION, why, 0);
    refuseUpgrade(socket, status, statusText);
  }

  private takePending(requestId: number): PendingRequest | undefined {
    const request = this.pending.get(requestId);
    if (request === undefined) {
      this.error(ErrorCode.UNKNOWN_REQUEST, `connection request ${requestId} is not pending: it was already answered, timed out, or the client went away`, 0);
      return undefined;
    }
    clearTimeout(request.timer);
    this.pending.delete(requestId);
    return request;
  }

  // ---- clients --------------------------------------------------------------

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const id = this.nextClientId++;
    const client: Client = {
      id,
      ws,
      awaitingPong: false,
      turnMessages: 0,
      tokens: this.messageBurst,
      refilledAt: 0,
      held: undefined,
      heldFrom: 0,
      rateLimited: false,
      releaseTimer: undefined,
    };
    this.clients.set(id, client);
    if (this.paused) ws.pause();
    // The same four listeners serve every client (they find it through the socket), so an idle
    // connection costs no closures; `info` goes out once and is not kept.
    (ws as ClientSocket)[kClient] = client;
    const listeners = this.clientListeners;
    ws.on('message', listeners.message);
    ws.on('pong', listeners.pong);
    ws.on('error', listeners.error);
    ws.on('close', listeners.close);
    this.emit([Event.CLIENT_CONNECTED, id, describeClient(req, parseRequestUrl(req.url), ws.protocol)]);
  }

  private readonly clientListeners = ((server: SidecarServer) => ({
    message(this: WebSocket, data: Buffer, isBinary: boolean): void {
      const client = (this as ClientSocket)[kClient];
      // Without a rate limit, this branch is all it costs.
      if (server.messageRate !== 0 && !server.admit(client, data, isBinary)) return;
      server.forward(client, data, isBinary);
    },
    pong(this: WebSocket): void {
      const client = (this as ClientSocket)[kClient];
      client.awaitingPong = false;
      clearTimeout(client.pongTimer);
    },
    error(this: WebSocket, error: Error & { code?: string }): void {
      const client = (this as ClientSocket)[kClient];
      if (client.closeCode !== undefined) return;
      const code = closeCodeForError(error);
      client.closeCode = code;
      client.closeReason = error.message;
      server.error(ErrorCode.CLIENT_PROTOCOL_ERROR, `client ${client.id} broke the WebSocket protocol (${error.message}) and was closed with ${code}`, client.id);
    },
    close(this: WebSocket, receivedCode: number, reasonBuffer: Buffer): void {
      const client = (this as ClientSocket)[kClient];
      const id = client.id;
      clearTimeout(client.pongTimer);
      clearTimeout(client.releaseTimer);
      // Held messages were received before the close: the host gets them before the disconnect.
      if (client.held !== undefined) server.releaseAll(client);
      server.clients.delete(id);
      server.rooms.leaveAll(id);
      const clean = receivedCode !== 1006;
      const code = client.closeCode ?? receivedCode;
      const reason = client.closeReason ?? reasonBuffer.toString('utf8');
      server.emit([Event.CLIENT_DISCONNECTED, id, code, reason, clean]);
      server.notifyIfEmpty();
    },
  }))(this);

  /** Hands one client message to the host. */
  private forward(client: Client, data: Buffer, isBinary: boolean): void {
    const id = client.id;
    this.countForFairness(client);
    this.counters.messagesIn++;
    this.counters.bytesIn += data.length;
    if (this.emitMessage !== undefined && id < 0x100000000) this.emitMessage(isBinary ? Event.BINARY : Event.TEXT, id, data, !isBinary);
    else this.emit(isBinary ? [Event.BINARY, id, data] : [Event.TEXT, id, data.toString('utf8')]);
  }

  // ---- inbound rate limit (max_messages_per_second) --------------------------

  /**
   * Takes a token for a message of `client`, or holds the message when none is left or older
   * messages already wait. Holding pauses the socket, so TCP pushes back on the client; messages ws
   * had already parsed from the last read still arrive and queue behind, in order. Nothing is
   * dropped: `releaseHeld` hands them over as tokens come back. Returns whether the message goes now.
   */
  private admit(client: Client, data: Buffer, isBinary: boolean): boolean {
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
      }
      if (client.releaseTimer === undefined) this.scheduleRelease(client);
    }
    client.held.push({ data, isBinary });
    return false;
  }

  private refill(client: Client): void {
    const now = performance.now();
    const tokens = client.tokens + ((now - client.refilledAt) * this.messageRate) / 1000;
    client.tokens = tokens < this.messageBurst ? tokens : this.messageBurst;
    client.refilledAt = now;
  }

  /** Wakes `releaseHeld` when the client's next token is due. */
  private scheduleRelease(client: Client): void {
    const waitMs = Math.max(1, Math.ceil(((1 - client.tokens) * 1000) / this.messageRate));
    client.releaseTimer = setTimeout(this.releaseHeld, waitMs, client);
  }

  /**
   * Delivers as many held messages as the client has tokens for, oldest first. Once none wait and
   * a token is there, reading resumes, unless the host is not reading (`setPaused`): then the
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
        this.forward(client, message.data, message.isBinary);
      }
      if (next < held.length) {
        client.heldFrom = next;
      } else {
        client.held = undefined;
        client.heldFrom = 0;
      }
    }
    if (client.held === undefined && client.tokens >= 1) {
      client.rateLimited = false;
      if (!this.paused) client.ws.resume();
      return;
    }
    this.scheduleRelease(client);
  };

  /** Delivers every held message at once, tokens or not: the client is gone. */
  private releaseAll(client: Client): void {
    const held = client.held ?? [];
    for (let next = client.heldFrom; next < held.length; next++) this.forward(client, held[next]!.data, held[next]!.isBinary);
    client.held = undefined;
    client.heldFrom = 0;
  }

  /**
   * The WebSocket frame of a fan-out, built once and written as-is to every recipient. Only
   * without permessage-deflate: then ws's sender never queues (it queues only while compressing
   * or reading a Blob), so writing to the socket directly keeps frames in order, and the bytes
   * count in `bufferedAmount` like any other send.
   */
  private sharedFrame(data: Uint8Array, binary: boolean): Buffer | undefined {
    if (this.options === undefined || this.options.permessageDeflate || this.clients.size < 2) return undefined;
    return frameUnmasked(data, binary);
  }

  /**
   * Past its fair share in this turn, a client's next messages wait for later turns: its ws
   * receiver switches to ws's own `allowSynchronousEvents: false` mode (each message deferred
   * with setImmediate) until the turn ends, so other sockets are read in between. Turning that
   * mode on for every client would cost every burst a setImmediate per message; this costs
   * nothing below the share. A ws without the internal flag simply gets no fairness.
   */
  countForFairness(client: Client): void {
    if (client.turnMessages++ === 0) {
      this.countedThisTurn.push(client);
      if (this.countedThisTurn.length === 1) setImmediate(this.endFairnessTurn);
    }
    if (client.turnMessages === FAIR_SHARE_PER_TURN) {
      const receiver = (client.ws as unknown as { _receiver?: ReceiverInternals })._receiver;
      if (receiver !== undefined && receiver._allowSynchronousEvents === true) {
        receiver._allowSynchronousEvents = false;
        this.throttled.push(receiver);
      }
    }
  }

  /** Runs before the messages deferred in this turn (it was scheduled before them). */
  private readonly endFairnessTurn = (): void => {
    for (const client of this.countedThisTurn) client.turnMessages = 0;
    this.countedThisTurn.length = 0;
    for (const receiver of this.throttled) receiver._allowSynchronousEvents = true;
    this.throttled.length = 0;
  };

  private deliver(client: Client, data: Uint8Array, binary: boolean, frame?: Buffer): void {
    const ws = client.ws;
    if (ws.readyState !== WebSocket.OPEN || client.closeCode !== undefined) return;
    const socket = this.corkForThisTurn(client);
    if (frame !== undefined && socket !== undefined) socket.write(frame);
    else ws.send(data, { binary });
    this.counters.messagesOut++;
    this.counters.bytesOut += data.length;
    // A corked socket is checked when the turn's writes reach the kernel (uncorkAll).
    if (socket === undefined) this.checkOutbound(client);
  }

  /** Closes a client whose queued outbound bytes passed `max_outbound_buffer`. */
  private checkOutbound(client: Client): void {
    const ws = client.ws;
    const limit = this.options?.maxOutboundBuffer ?? Infinity;
    if (ws.readyState === WebSocket.OPEN && client.closeCode === undefined && ws.bufferedAmount > limit) {
      this.error(
        ErrorCode.OUTBOUND_OVERFLOW,
        `client ${client.id} is not reading: ${ws.bufferedAmount} bytes were queued for it, past max_outbound_buffer (${limit}), so it was closed with 1008`,
        client.id,
      );
      this.closeClient(client, 1008, 'outbound buffer limit exceeded', 0);
    }
  }

  /**
   * Corks the client's socket until the end of the current turn, so every message the host sent
   * it in one batch leaves in one writev instead of one syscall each (ws corks only per message).
   * The outbound limit is checked once those writes reached the kernel, so it counts what the
   * client really left unread, as it did when every message was written on its own.
   */
  private corkForThisTurn(client: Client): Socket | undefined {
    const socket = (client.ws as unknown as { _socket?: Socket | null })._socket;
    if (socket === undefined || socket === null) return undefined;
    if (this.corked.has(socket)) return socket;
    socket.cork();
    this.corked.set(socket, client);
    if (this.corked.size === 1) process.nextTick(this.uncorkAll);
    return socket;
  }

  private readonly uncorkAll = (): void => {
    const corked = [...this.corked];
    this.corked.clear();
    // end() and destroy() uncork on their own; uncork() on such a socket does nothing.
    for (const [socket] of corked) socket.uncork();
    for (const [, client] of corked) this.checkOutbound(client);
  };

  /** Starts a close we initiated; the socket is destroyed if the client does not answer in time. */
  private closeClient(client: Client, code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
    if (client.closeCode !== undefined && client.ws.readyState !== WebSocket.OPEN) return;
    client.closeCode = code;
    client.closeReason = reason;
    const ws = client.ws;
    if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    const timer = setTimeout(() => ws.terminate(), graceMs);
    ws.once('close', () => clearTimeout(timer));
  }

  private startHeartbeat(): void {
    const options = this.options;
    if (options === undefined || options.heartbeatIntervalMs === 0) return;
    this.heartbeatTimer = setInterval(() => {
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
          this.error(
            ErrorCode.HEARTBEAT_TIMEOUT,
            `client ${client.id} did not answer a ping sent ${Date.now() - now} ms ago and was dropped`,
            client.id,
          );
          client.ws.terminate();
        }, options.heartbeatTimeoutMs);
      }
    }, options.heartbeatIntervalMs);
  }

  // ---- stopping -------------------------------------------------------------

  private async closeEverything(code: number, reason: string, graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.state = 'stopping';
    clearInterval(this.heartbeatTimer);
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
    const server = this.httpServer;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const client of this.clients.values()) this.closeClient(client, code, reason, graceMs);
    if (this.clients.size > 0) await new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    server?.closeAllConnections();
    await closed;
    this.teardown();
  }

  private notifyIfEmpty(): void {
    if (this.clients.size > 0) return;
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private teardown(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.wss?.close();
    this.wss = undefined;
    this.httpServer = undefined;
    this.options = undefined;
    this.messageRate = 0;
    this.messageBurst = 0;
    this.rooms.clear();
    this.state = 'idle';
  }

  // ---- helpers ---------------------------------------------------------------

  private failStart(failure: StartFailure): void {
    // No stderr line: the host reports start_failed itself, and a log line would show it twice.
    this.emit([Event.START_FAILED, failure.code, failure.message]);
  }

  private error(code: string, message: string, clientId: number): void {
    this.emit([Event.ERROR, code, message, clientId]);
  }

  private requireListening(what: string): boolean {
    if (this.state === 'listening') return true;
    this.error(ErrorCode.NOT_LISTENING, `cannot ${what}: the server is not listening; call start first`, 0);
    return false;
  }

  private requireClient(clientId: number): Client | undefined {
    if (!this.requireListening(`reach client ${clientId}`)) return undefined;
    const client = this.clients.get(clientId);
    if (client === undefined) {
      this.error(ErrorCode.UNKNOWN_CLIENT, `no client with id ${clientId} is connected (it may have disconnected already)`, clientId);
    }
    return client;
  }
}

function ignoreError(): void {}

function toPayload(payload: string | Uint8Array): [Uint8Array, boolean] {
  // Encode text once, not once per recipient; ws sends a Buffer with binary: false as a text frame.
  return typeof payload === 'string' ? [Buffer.from(payload), false] : [payload, true];
}

/** A final, unmasked (server-to-client) WebSocket data frame holding `data` (RFC 6455 §5.2). */
export function frameUnmasked(data: Uint8Array, binary: boolean): Buffer {
  const length = data.length;
  const headerBytes = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerBytes + length);
  frame[0] = 0x80 | (binary ? 0x02 : 0x01);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(data, headerBytes);
  return frame;
}

function parseRequestUrl(raw: string | undefined): { path: string; query: string } {
  const url = raw ?? '/';
  const mark = url.indexOf('?');
  return mark === -1 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
}

function describeClient(req: IncomingMessage, url: { path: string; query: string }, subprotocol: string): ClientInfo {
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

function refuseUpgrade(socket: Duplex, status: number, statusText: string): void {
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
