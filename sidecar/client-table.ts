/**
 * The connected clients: a record per completed upgrade, and its ws events turned into what the
 * host hears. Messages pass the rate limit and the fair share on their way to the host; protocol
 * errors and closes become `error` and `client_disconnected` events.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { ErrorCode, Event } from '../protocol/constants.js';
import { MAX_INT32 } from '../protocol/start-options.js';
import type { AnyEvent } from '../protocol/messages.js';
import { createClient, describeClient, endWithin, parseRequestUrl, type Client } from './client.js';
import { closeCodeForError } from './close-codes.js';
import { FairShare } from './fair-share.js';
import { pongReceived } from './heartbeat.js';
import { DEFAULT_OPTIONS } from './options.js';
import { watchForCloseFrame } from './late-close-frame.js';
import { InboundTotal } from './inbound-total.js';
import { PausedBacklog } from './paused-backlog.js';
import { RateLimiter } from './rate-limiter.js';
import type { ServerOptions } from './options.js';
import type { RoomRegistry } from './room-registry.js';
import { isDiscardedBacklog, onCloseFrame, onSocketEnd, socketOf } from './ws-internals.js';

/**
 * Receives each client message (`text` or `binary` op) as raw bytes (ws already checked text is
 * UTF-8), so the writer can frame them without decoding the text or copying the bytes twice
 * (EventWriter.writeClientMessage).
 */
export type ClientMessageSink = (op: number, clientId: number, data: Uint8Array, isText: boolean) => void;

const kClient = Symbol('client');
type ClientSocket = WebSocket & { [kClient]: Client };
/** The net.Socket under a client, which finds its client the same way. */
type ClientNetSocket = Socket & { [kClient]: Client };

export class ClientTable {
  readonly clients = new Map<number, Client>();
  readonly limiter: RateLimiter;
  readonly inbound: InboundTotal;
  readonly backlog: PausedBacklog;
  messagesIn = 0;
  bytesIn = 0;
  /** `close_timeout_ms` of the running server: how long a close handshake may take. */
  closeTimeoutMs = DEFAULT_OPTIONS.closeTimeoutMs;
  /** `multiplayer_peer_ids` of the running server: each client first gets its Godot peer id. */
  sendsPeerIds = DEFAULT_OPTIONS.multiplayerPeerIds;
  private readonly emit: (event: AnyEvent) => void;
  private readonly emitMessage: ClientMessageSink;
  private readonly rooms: RoomRegistry;
  private readonly isHostPaused: () => boolean;
  private readonly pongSent: (client: Client) => void;
  private readonly fairShare = new FairShare();
  /** Added to every new client's id: the node number's high bits in a cluster (cluster-ids.ts), else 0. */
  idBase = 0;
  private nextClientId = 1;
  private emptyWaiters: Array<() => void> = [];

  /**
   * @param emit receives `client_connected`, `client_disconnected` and client error events
   * @param emitMessage receives every client message
   * @param rooms the rooms a leaving client is taken out of
   * @param isHostPaused whether the host is not reading (new clients start paused then)
   * @param pongSent called after ws answered a client's ping, so the pong counts against the
   *   client's outbound bound like any message (a client that pings without reading is closed)
   * @param isQueueFull whether the events waiting for the host reached `max_queued_events`
   */
  constructor(
    emit: (event: AnyEvent) => void,
    emitMessage: ClientMessageSink,
    rooms: RoomRegistry,
    isHostPaused: () => boolean,
    pongSent: (client: Client) => void,
    isQueueFull: () => boolean = () => false,
  ) {
    this.emit = emit;
    this.emitMessage = emitMessage;
    this.rooms = rooms;
    this.isHostPaused = isHostPaused;
    this.pongSent = pongSent;
    this.backlog = new PausedBacklog(isQueueFull);
    this.limiter = new RateLimiter(this.forward, isHostPaused, this.backlog);
    this.inbound = new InboundTotal(emit);
  }

  /** Sets the inbound limits of a starting server. */
  configure(options: ServerOptions): void {
    this.limiter.configure(options.maxMessagesPerSecond, options.messageBurst);
    this.inbound.limit = options.maxInboundTotal;
    this.backlog.configure(options.maxMessageSize, options.maxInboundTotal);
  }

  /** No inbound limits (a stopped server). */
  reset(): void {
    this.limiter.reset();
    this.inbound.limit = Infinity;
  }

  /**
   * Pauses or resumes every client socket for the host (`isHostPaused` already tells the new
   * state). A client the rate limit paused stays paused on a resume.
   */
  setHostPaused(paused: boolean): void {
    for (const client of this.clients.values()) {
      if (paused) client.ws.pause();
      else if (!client.rateLimited) client.ws.resume();
    }
    this.backlog.setHostPaused(paused, this.clients.values());
  }

  /** Adds the client of an upgrade ws completed and tells the host. */
  add(ws: WebSocket, req: IncomingMessage): void {
    const id = this.idBase + this.nextClientId++;
    if (this.sendsPeerIds && !sendPeerId(ws, id)) return;
    const client = createClient(id, ws, this.limiter.burst);
    this.clients.set(id, client);
    if (this.isHostPaused()) ws.pause();
    // The same listeners serve every client (they find it through the socket), so an idle
    // connection costs no closures; `info` goes out once and is not kept.
    (ws as ClientSocket)[kClient] = client;
    const listeners = this.listeners;
    ws.on('message', listeners.message);
    ws.on('ping', listeners.ping);
    ws.on('pong', listeners.pong);
    ws.on('error', listeners.error);
    ws.on('close', listeners.close);
    onCloseFrame(ws, listeners.closeFrame);
    onSocketEnd(ws, listeners.ended);
    const socket = socketOf(ws) as ClientNetSocket | undefined;
    if (socket !== undefined) {
      socket[kClient] = client;
      socket.on('data', listeners.socketData);
      // A frame waiting to be inflated holds ws's close back until the socket's end lets it go on.
      if (this.backlog.add(client)) socket.on('close', listeners.socketClose);
    }
    this.emit([Event.CLIENT_CONNECTED, id, describeClient(req, parseRequestUrl(req.url), ws.protocol)]);
  }

  /** Resolves once no client is left; call it while some are. */
  whenEmpty(): Promise<void> {
    return new Promise<void>((resolve) => this.emptyWaiters.push(resolve));
  }

  private readonly listeners = ((table: ClientTable) => ({
    message(this: WebSocket, data: Buffer, isBinary: boolean): void {
      const client = (this as ClientSocket)[kClient];
      table.inbound.settle(client);
      // Without a rate limit, this branch is all it costs.
      if (table.limiter.rate !== 0 && !table.limiter.admit(client, data, isBinary)) return;
      table.forward(client, data, isBinary);
    },
    ping(this: WebSocket): void {
      table.pongSent((this as ClientSocket)[kClient]);
    },
    pong(this: WebSocket): void {
      pongReceived((this as ClientSocket)[kClient]);
    },
    /** The client sent a close frame (ws answered it): its code wins, and the close may take `close_timeout_ms`. */
    closeFrame(ws: WebSocket, receivedCode: number, reason: Buffer): void {
      const client = (ws as ClientSocket)[kClient];
      if (client.closeCode === undefined) {
        client.closeCode = receivedCode;
        client.closeReason = reason.toString('utf8');
      }
      endWithin(client, table.closeTimeoutMs);
    },
    /** The client half-closed TCP: ws ends our side once its backlog is written, which a client that does not read never lets happen. */
    ended(ws: WebSocket): void {
      endWithin((ws as ClientSocket)[kClient], table.closeTimeoutMs);
    },
    /** After ws parsed a read of the socket (its listener runs first). */
    socketData(this: Socket, chunk: Buffer): void {
      const client = (this as ClientNetSocket)[kClient];
      table.inbound.measure(client);
      table.backlog.afterRead(client, chunk.length);
    },
    socketClose(this: Socket): void {
      table.backlog.wake((this as ClientNetSocket)[kClient]);
    },
    error(this: WebSocket, error: Error & { code?: string }): void {
      const client = (this as ClientSocket)[kClient];
      if (client.closeCode !== undefined || isDiscardedBacklog(error)) return;
      const code = closeCodeForError(error);
      client.closeCode = code;
      client.closeReason = error.message;
      // ws answered with a close frame and reads no more: the client's answer is looked for here.
      const socket = socketOf(this);
      if (socket !== undefined) watchForCloseFrame(socket, () => (client.lateCloseFrame = true));
      endWithin(client, table.closeTimeoutMs);
      table.emit([
        Event.ERROR,
        ErrorCode.CLIENT_PROTOCOL_ERROR,
        `client ${client.id} broke the WebSocket protocol (${error.message}) and was closed with ${code}`,
        client.id,
      ]);
    },
    close(this: WebSocket, receivedCode: number, reasonBuffer: Buffer): void {
      const client = (this as ClientSocket)[kClient];
      const id = client.id;
      clearTimeout(client.pongTimer);
      clearTimeout(client.closeTimer);
      // Held messages were received before the close: the host gets them before the disconnect.
      table.limiter.releaseAll(client);
      table.inbound.forget(client);
      table.backlog.forget(client);
      table.clients.delete(id);
      table.rooms.leaveAll(id);
      // ws reports 1006 unless it read the client's close frame (then its code, 1005 if none).
      const clean = receivedCode !== 1006 || client.lateCloseFrame === true;
      const code = client.closeCode ?? receivedCode;
      const reason = client.closeReason ?? reasonBuffer.toString('utf8');
      table.emit([Event.CLIENT_DISCONNECTED, id, code, reason, clean]);
      table.notifyIfEmpty();
    },
  }))(this);

  /** Hands one client message to the host. */
  private readonly forward = (client: Client, data: Buffer, isBinary: boolean): void => {
    this.fairShare.count(client);
    if (this.isHostPaused()) this.backlog.handedToPausedHost(client, data.length);
    this.messagesIn++;
    this.bytesIn += data.length;
    this.emitMessage(isBinary ? Event.BINARY : Event.TEXT, client.id, data, !isBinary);
  };

  private notifyIfEmpty(): void {
    if (this.clients.size > 0) return;
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Sends a Godot `WebSocketMultiplayerPeer` client its peer id, client id + 1, as the one 4-byte
 * little-endian int32 message it waits for after the upgrade (PROTOCOL.md, "Multiplayer peer
 * ids"). Sent before the host hears of the client, so the id never waits on the host's frame.
 * Returns false, having closed the client with 1013, when the id would not fit an int32.
 */
function sendPeerId(ws: WebSocket, clientId: number): boolean {
  const peerId = clientId + 1;
  if (peerId > MAX_INT32) {
    ws.close(1013, 'no multiplayer peer id left');
    return false;
  }
  const message = Buffer.allocUnsafe(4);
  message.writeInt32LE(peerId, 0);
  ws.send(message, { binary: true });
  return true;
}
