/**
 * The WebSocket server the host drives: it starts and stops, and carries out the host's
 * commands (send, broadcast, rooms, disconnect, accept/reject, stats, pause). Its parts live
 * next door: http-listener.ts (the port), upgrade-gate.ts (who gets in), client-table.ts (who is
 * in), outbound.ts (what goes out) and heartbeat.ts. It knows nothing about stdio: it reports
 * through `emit` and `emitMessage` and is told what to do through its methods, so tests can drive
 * it directly.
 */
import type { Server } from 'node:http';
import { ErrorCode, Event, PROTOCOL_VERSION } from '../protocol/constants.js';
import type { AnyEvent, Stats } from '../protocol/messages.js';
import { readRss } from './process-readings.js';
import { closeClient, isClosing, type Client } from './client.js';
import { ClientTable, type ClientMessageSink } from './client-table.js';
import type { EventQueue } from './event-writer.js';
import { closeArgumentProblem } from './close-codes.js';
import { Heartbeat } from './heartbeat.js';
import { AcceptFailures, createHttpServer, listen } from './http-listener.js';
import type { StartFailure } from './listen-errors.js';
import type { Logger } from './log.js';
import { InvalidOptionError, resolveOptions, type ServerOptions } from './options.js';
import { Outbound } from './outbound.js';
import { RoomRegistry } from './room-registry.js';
import { refuseUpgrade } from './http-refusal.js';
import { UpgradeGate } from './upgrade-gate.js';

type State = 'idle' | 'starting' | 'listening' | 'stopping';

export class SidecarServer {
  private readonly emit: (event: AnyEvent) => void;
  private readonly log: Logger;
  private state: State = 'idle';
  private httpServer: Server | undefined;
  /** While `starting`: settles once that start was answered (`listening` or `start_failed`). */
  private startAnswered: Promise<void> = Promise.resolve();
  /** The host is not reading: every client socket is paused (`setPaused`). */
  private paused = false;
  private readonly startedAt = Date.now();
  /** Public for the cluster (cluster.ts), which follows rooms and client ids. */
  readonly rooms = new RoomRegistry();
  readonly table: ClientTable;
  private readonly clients: ReadonlyMap<number, Client>;
  private readonly gate: UpgradeGate;
  private readonly outbound: Outbound;
  private readonly heartbeat: Heartbeat;
  private readonly acceptFailures: AcceptFailures;
  private readonly events: EventQueue | undefined;

  /**
   * @param emit receives every event but client messages, in order
   * @param log receives human-readable diagnostics (stderr in production)
   * @param emitMessage receives every client message, in order with `emit`'s events
   * @param events the queue of events for the host, bounded by `max_queued_events` (none in tests)
   */
  constructor(emit: (event: AnyEvent) => void, log: Logger, emitMessage: ClientMessageSink, events?: EventQueue) {
    this.emit = emit;
    this.log = log;
    this.events = events;
    this.table = new ClientTable(
      emit,
      emitMessage,
      this.rooms,
      () => this.paused,
      (client) => this.outbound.checkOutbound(client),
      () => events?.isFull === true,
    );
    this.clients = this.table.clients;
    this.gate = new UpgradeGate(emit, log, {
      isListening: () => this.state === 'listening',
      clientCount: () => this.clients.size,
      connected: (ws, req) => this.table.add(ws, req),
    });
    this.outbound = new Outbound(emit);
    this.heartbeat = new Heartbeat(this.clients, emit);
    this.acceptFailures = new AcceptFailures(emit, log);
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
    const gate = this.gate;
    const server = createHttpServer(
      options,
      {
        connection: (socket) => gate.trackHandshake(socket, options.handshakeTimeoutMs),
        // While the host is not reading, every connect and disconnect would queue an event (all
        // request headers) for it without bound: admission stops, without an event (PROTOCOL.md).
        upgrade: (req, socket, head) => (this.paused ? refuseUpgrade(socket, 503, 'Service Unavailable') : gate.handleUpgrade(req, socket, head)),
        certificateOutOfDate: (message) => this.error(ErrorCode.TLS_CERTIFICATE_EXPIRED, message, 0),
      },
      this.log,
    );
    if ('code' in server) {
      this.failStart(server);
      return;
    }
    this.state = 'starting';
    let answered!: () => void;
    this.startAnswered = new Promise((resolve) => (answered = resolve));
    this.table.configure(options);
    this.outbound.maxBuffer = options.maxOutboundBuffer;
    if (this.events !== undefined) this.events.maxQueuedBytes = options.maxQueuedEvents;
    this.outbound.permessageDeflate = options.permessageDeflate;
    this.table.closeTimeoutMs = options.closeTimeoutMs;
    this.table.sendsPeerIds = options.multiplayerPeerIds;
    this.httpServer = server;
    this.acceptFailures.reset();
    gate.open(options);
    listen(
      server,
      options,
      {
        stillWanted: () => this.httpServer === server,
        listening: (port) => {
          this.state = 'listening';
          this.heartbeat.start(options.heartbeatIntervalMs, options.heartbeatTimeoutMs);
          this.log('info', `listening on ${options.tlsCertPath ? 'wss' : 'ws'}://${options.host}:${port}${options.path}`);
          this.emit([Event.LISTENING, port, options.host, options.tlsCertPath !== '']);
          answered();
        },
        failed: (failure) => {
          this.teardown();
          this.failStart(failure);
          answered();
        },
        acceptFailed: (error) => this.acceptFailures.add(error),
      },
      this.log,
    );
  }

  /** Settles once the latest `start` was answered (at once when none is binding its port). */
  get startSettled(): Promise<void> {
    return this.startAnswered;
  }

  /** Handles `stop`: closes every client with 1001, stops listening, then reports `stopped`. */
  async stop(): Promise<void> {
    // A start still binding its port is answered first: every start gets exactly one answer.
    if (this.state === 'starting') await this.startAnswered;
    if (this.state === 'idle') {
      this.emit([Event.STOPPED]);
      return;
    }
    await this.closeEverything(1001, 'server stopping');
    this.emit([Event.STOPPED]);
  }

  /**
   * Ends everything for process exit: clients get 1001 and at most
   * `graceMs` to answer before their sockets are destroyed.
   */
  async shutdown(graceMs = 500): Promise<void> {
    if (this.state === 'starting') await this.startAnswered;
    if (this.state === 'idle') return;
    await this.closeEverything(1001, 'server shutting down', graceMs);
  }

  /** Sends one message to one client: `data` is text (UTF-8, already checked) or, with `binary`, binary. */
  send(clientId: number, data: Uint8Array, binary: boolean): void {
    const client = this.requireClient(clientId);
    if (client !== undefined) this.outbound.deliver(client, data, binary);
  }

  /** Sends to every client but `exclude` (0 for none). */
  broadcast(payload: string | Uint8Array, exclude: number): void {
    if (this.requireListening('broadcast')) this.outbound.fanOut(this.clients.values(), this.clients.size, payload, exclude);
  }

  /** Sends to every member of `room` but `exclude` (0 for none). */
  broadcastToRoom(room: string, payload: string | Uint8Array, exclude: number): void {
    if (!this.requireListening('room broadcast')) return;
    const ids = this.rooms.clientsIn(room);
    this.outbound.fanOut(this.connected(ids), ids.size, payload, exclude);
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
    const problem = closeArgumentProblem(code, reason);
    if (problem !== undefined) {
      this.error(ErrorCode.INVALID_ARGUMENT, problem, clientId);
      return;
    }
    closeClient(client, code, reason, this.table.closeTimeoutMs);
  }

  /** Completes a pending upgrade the host approved (auth mode). */
  accept(requestId: number, subprotocol: string): void {
    if (!this.requireListening('accept a connection request')) return;
    this.gate.accept(requestId, subprotocol);
  }

  /** Refuses a pending upgrade with the host's HTTP status (auth mode). */
  reject(requestId: number, httpStatus: number, reason: string): void {
    if (!this.requireListening('reject a connection request')) return;
    this.gate.reject(requestId, httpStatus, reason);
  }

  /** Counters for `stats`; never throws, whatever the process is short of (process-readings.ts). */
  stats(): Stats {
    const rss = readRss();
    return {
      clients: this.clients.size,
      rooms: this.rooms.size,
      pending_requests: this.gate.pendingCount,
      messages_in: this.table.messagesIn,
      messages_out: this.outbound.messagesOut,
      bytes_in: this.table.bytesIn,
      bytes_out: this.outbound.bytesOut,
      rss,
      uptime_ms: Date.now() - this.startedAt,
      paused: this.paused,
      accept_errors: this.acceptFailures.total,
      unavailable: rss === null ? ['rss'] : [],
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
    this.heartbeat.suspend(paused);
    this.table.setHostPaused(paused);
    this.log('info', paused ? 'host is not reading: client sockets paused' : 'host caught up: client sockets resumed');
  }

  // ---- stopping -------------------------------------------------------------

  /** Every client is gone within `graceMs` (`close_timeout_ms` unless shutting down), whatever it does. */
  private async closeEverything(code: number, reason: string, graceMs = this.table.closeTimeoutMs): Promise<void> {
    this.state = 'stopping';
    this.heartbeat.stop();
    this.gate.dropWaiting();
    const server = this.httpServer;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const client of this.clients.values()) closeClient(client, code, reason, graceMs);
    if (this.clients.size > 0) await this.table.whenEmpty();
    server?.closeAllConnections();
    await closed;
    this.teardown();
  }

  private teardown(): void {
    this.heartbeat.stop();
    this.gate.close();
    this.httpServer = undefined;
    this.table.reset();
    this.outbound.maxBuffer = Infinity;
    this.outbound.permessageDeflate = false;
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

  /** The connected clients among `ids`, without building an array on a broadcast's path. */
  private *connected(ids: Iterable<number>): Generator<Client> {
    for (const id of ids) {
      const client = this.clients.get(id);
      if (client !== undefined) yield client;
    }
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
      return undefined;
    }
    if (isClosing(client)) {
      this.error(ErrorCode.CLIENT_CLOSING, `client ${clientId} is closing (close code ${client.closeCode ?? 'pending'}): nothing was sent`, clientId);
      return undefined;
    }
    return client;
  }
}

