/**
 * Auth mode's connection requests: upgrades waiting for the host's `accept` or `reject`. Each is
 * bounded in time (`auth_timeout_ms`) and in number (`max_pending_requests`), expires as soon as
 * its client goes (a half-close included), and is answered only with arguments PROTOCOL.md
 * allows: a subprotocol the client offered, a 4xx/5xx status and a reason that cannot reach the
 * HTTP response as anything but text. A wrong argument leaves the request pending.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { describeClient, type RequestUrl } from './client.js';
import { hasControlCharacters, refuseUpgrade } from './http-refusal.js';

/** Bytes a client may send before its request is answered (RFC 6455 §4.1: it should send none). */
const EARLY_DATA_LIMIT = 16 * 1024;
/** RFC 6455 §5.5 keeps close reasons to 123 bytes; a reject reason gets the same bound. */
const MAX_REASON_BYTES = 123;

export interface RequestHooks {
  /** Hands an approved upgrade (with what the client sent meanwhile) on to ws; `subprotocol` '' lets the server choose. */
  complete(req: IncomingMessage, socket: Duplex, head: Buffer, subprotocol: string): void;
  /** Refuses an upgrade and tells the host why (`rejected_connection`). */
  refuse(socket: Duplex, status: number, statusText: string, why: string): void;
}

interface PendingRequest {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  timer: NodeJS.Timeout;
  onData: (chunk: Buffer) => void;
  onGone: () => void;
}

export class ConnectionRequests {
  private readonly emit: (event: AnyEvent) => void;
  private readonly hooks: RequestHooks;
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequestId = 1;

  constructor(emit: (event: AnyEvent) => void, hooks: RequestHooks) {
    this.emit = emit;
    this.hooks = hooks;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Asks the host about an upgrade with a `connection_request`, or refuses it with 503 when
   * `maxPending` requests already wait.
   */
  ask(req: IncomingMessage, socket: Duplex, head: Buffer, url: RequestUrl, timeoutMs: number, maxPending: number): void {
    if (this.pending.size >= maxPending) {
      this.hooks.refuse(socket, 503, 'Service Unavailable', `upgrade refused: max_pending_requests (${maxPending}) connection requests wait for an answer`);
      return;
    }
    const id = this.nextRequestId++;
    const timer = setTimeout(() => {
      if (this.forget(id) === undefined) return;
      this.hooks.refuse(socket, 503, 'Service Unavailable', `connection request ${id} was not answered within ${timeoutMs} ms and was refused`);
      this.emit([Event.REQUEST_EXPIRED, id]);
    }, timeoutMs);
    const onGone = (): void => this.expire(id);
    // The socket is read while the request waits, or a half-close (FIN) would go unseen until the
    // timeout; what a client sends meanwhile is kept for ws, up to EARLY_DATA_LIMIT.
    const onData = (chunk: Buffer): void => {
      const request = this.pending.get(id);
      if (request === undefined) return;
      request.head = Buffer.concat([request.head, chunk]);
      if (request.head.length > EARLY_DATA_LIMIT) {
        refuseUpgrade(socket, 400, 'Bad Request');
        this.expire(id);
      }
    };
    this.pending.set(id, { req, socket, head, timer, onData, onGone });
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    const { subprotocol: _none, ...info } = describeClient(req, url, '');
    this.emit([Event.CONNECTION_REQUEST, id, info]);
  }

  /** Completes a pending upgrade the host approved, with `subprotocol` if the client offered it. */
  accept(requestId: number, subprotocol: string): void {
    const request = this.lookUp(requestId);
    if (request === undefined) return;
    if (subprotocol !== '' && !offeredSubprotocols(request.req).includes(subprotocol)) {
      this.invalid(`accept of connection request ${requestId}: the client did not offer subprotocol ${JSON.stringify(subprotocol)}; the request is still pending`);
      return;
    }
    this.forget(requestId);
    this.hooks.complete(request.req, request.socket, request.head, subprotocol);
  }

  /** Refuses a pending upgrade with the host's HTTP status and reason. */
  reject(requestId: number, httpStatus: number, reason: string): void {
    const request = this.lookUp(requestId);
    if (request === undefined) return;
    if (!Number.isInteger(httpStatus) || httpStatus < 400 || httpStatus > 599) {
      this.invalid(`reject of connection request ${requestId}: HTTP status ${httpStatus} is not from 400 to 599; the request is still pending`);
      return;
    }
    if (Buffer.byteLength(reason) > MAX_REASON_BYTES || hasControlCharacters(reason)) {
      this.invalid(
        `reject of connection request ${requestId}: the reason must be at most ${MAX_REASON_BYTES} bytes of UTF-8 without control characters; the request is still pending`,
      );
      return;
    }
    this.forget(requestId);
    refuseUpgrade(request.socket, httpStatus, reason || 'Rejected');
  }

  /** Refuses every waiting request with 503 (the server stops); no event, as for any refusal at stop. */
  refuseAll(): void {
    for (const id of [...this.pending.keys()]) {
      const request = this.forget(id);
      if (request !== undefined) refuseUpgrade(request.socket, 503, 'Server stopping');
    }
  }

  /** The client went (or broke the rules) while its request waited: the host hears at once. */
  private expire(id: number): void {
    const request = this.forget(id);
    if (request === undefined) return;
    request.socket.destroy();
    this.emit([Event.REQUEST_EXPIRED, id]);
  }

  /** Takes a request out of the book and stops watching its socket. */
  private forget(id: number): PendingRequest | undefined {
    const request = this.pending.get(id);
    if (request === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    request.socket.off('data', request.onData);
    request.socket.off('end', request.onGone);
    request.socket.off('close', request.onGone);
    return request;
  }

  private lookUp(requestId: number): PendingRequest | undefined {
    const request = this.pending.get(requestId);
    if (request === undefined) {
      this.emit([
        Event.ERROR,
        ErrorCode.UNKNOWN_REQUEST,
        `connection request ${requestId} is not pending: it was already answered, timed out, or the client went away`,
        0,
      ]);
    }
    return request;
  }

  private invalid(message: string): void {
    this.emit([Event.ERROR, ErrorCode.INVALID_ARGUMENT, message, 0]);
  }
}

/** The subprotocols a request offers in `Sec-WebSocket-Protocol`. */
function offeredSubprotocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header === undefined ? [] : header.split(',').map((token) => token.trim()).filter((token) => token !== '');
}
