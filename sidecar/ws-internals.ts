/**
 * Every use of `ws`'s private fields, in one place, so a `ws` upgrade is checked here and by
 * test/sidecar/ws-internals.test.ts, which fails if a version no longer has them. Each reader
 * degrades to "not there" (undefined) rather than throwing, so a `ws` without an internal only
 * loses the feature built on it.
 *
 * What the sidecar relies on:
 * - `WebSocket#_socket`: the net.Socket under a connection, corked per turn and written broadcast
 *   frames directly (outbound.ts). Writing to it directly keeps frames in order only because
 *   ws's sender does not queue without permessage-deflate (it queues only while compressing or
 *   reading a Blob).
 * - `WebSocket#_receiver._allowSynchronousEvents`: ws's own "one message per setImmediate" mode,
 *   switched on for a turn to hold back a client past its fair share (fair-share.ts).
 * - the `status-code` symbol on errors ws's receiver raises: the close code it answers with
 *   (close-codes.ts).
 * - `WebSocket#_receiver`'s `conclude` event: a close frame arrived from the client, which ws
 *   answers without telling anyone until the TCP connection ends (client-table.ts starts
 *   `close_timeout_ms` on it).
 * - the `end` event of `WebSocket#_socket`: the client half-closed TCP, which ws answers by ending
 *   its own side once everything queued is written, so a client that does not read is never let
 *   go (ws sets no timer for it); client-table.ts starts `close_timeout_ms` on it too.
 * - `WebSocket#_receiver._totalPayloadLength`, `._messageLength` and `._bufferedBytes`: the
 *   payload bytes the frames of the message being assembled declared so far (the current frame's
 *   as soon as its header is read), its decompressed bytes so far, and the read bytes not parsed
 *   yet: the inbound memory a client holds or is about to (inbound-total.ts).
 * - `Receiver#decompress(data, cb)`: shadowed on one receiver by `gateInflation`, so a
 *   paused client's compressed frames wait, still compressed, instead of being inflated (its
 *   receiver waits as it does for zlib), or are refused once its socket is gone
 *   (paused-backlog.ts). ws's own receiver backpressure then pauses the socket;
 *   `readSocketAhead` resumes the bare socket under a paused WebSocket.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _allowSynchronousEvents?: boolean;
  on?(event: 'conclude', listener: (this: ReceiverInternals, code: number, reason: Buffer) => void): unknown;
  [kOwner]?: WebSocket;
  [kOnCloseFrame]?: CloseFrameListener;
  _messageLength?: number;
  _totalPayloadLength?: number;
  _bufferedBytes?: number;
}

function receiverOf(ws: WebSocket): ReceiverInternals | undefined {
  return (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
}

interface SocketInternals {
  [kOwner]?: WebSocket;
  [kOnEnd]?: (ws: WebSocket) => void;
}

/** Receives a client's close frame: `code` is 1005 when the frame carried none. */
export type CloseFrameListener = (ws: WebSocket, code: number, reason: Buffer) => void;

const kOwner = Symbol('owner');
const kOnCloseFrame = Symbol('on-close-frame');
const kOnEnd = Symbol('on-end');

/** A ws receiver whose synchronous events were switched off by `deferReceiverEvents`. */
export type DeferredReceiver = { readonly __deferred: unique symbol };

/** The socket under `ws`, or undefined when ws has none (not yet, no more, or no such field). */
export function socketOf(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket | null })._socket ?? undefined;
}

/**
 * Makes ws emit this connection's next messages one per setImmediate instead of all in the
 * current read. Returns the receiver to hand to `restoreReceiverEvents`, or undefined when it
 * was already deferring or ws has no such mode.
 */
export function deferReceiverEvents(ws: WebSocket): DeferredReceiver | undefined {
  const receiver = receiverOf(ws);
  if (receiver === undefined || receiver._allowSynchronousEvents !== true) return undefined;
  receiver._allowSynchronousEvents = false;
  return receiver as unknown as DeferredReceiver;
}

/**
 * Bytes ws's receiver holds, or is about to, for `ws`'s unfinished message: what its frames
 * declared so far (a frame counts from its header on, before its payload arrives) or, compressed,
 * its decompressed bytes so far, whichever is more, plus the read bytes not parsed yet (a frame's
 * payload waits there in socket-read chunks until it is whole, then ws copies it out, so both
 * exist at once). 0 between messages, or when ws has no such fields.
 */
export function unfinishedInboundBytes(ws: WebSocket): number {
  const receiver = receiverOf(ws);
  if (receiver === undefined) return 0;
  const message = Math.max(receiver._totalPayloadLength ?? 0, receiver._messageLength ?? 0);
  return message === 0 ? 0 : message + (receiver._bufferedBytes ?? 0);
}

/** Undoes `deferReceiverEvents`. */
export function restoreReceiverEvents(receiver: DeferredReceiver): void {
  (receiver as unknown as ReceiverInternals)._allowSynchronousEvents = true;
}

/**
 * Calls `listener` when the client's close frame arrives (after ws recorded it and answered it).
 * One shared function serves every connection, so an idle one costs no closure. Returns false
 * when ws has no such event (the close then times out only through the sidecar's own close).
 */
export function onCloseFrame(ws: WebSocket, listener: CloseFrameListener): boolean {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (receiver === undefined || typeof receiver.on !== 'function') return false;
  receiver[kOwner] = ws;
  receiver[kOnCloseFrame] = listener;
  receiver.on('conclude', closeFrameTrampoline);
  return true;
}

function closeFrameTrampoline(this: ReceiverInternals, code: number, reason: Buffer): void {
  const ws = this[kOwner];
  if (ws !== undefined) this[kOnCloseFrame]?.(ws, code, reason);
}

/**
 * Calls `listener` when the client half-closes TCP (its FIN was read). Shared like `onCloseFrame`.
 * Returns false when ws has no socket.
 */
export function onSocketEnd(ws: WebSocket, listener: (ws: WebSocket) => void): boolean {
  const socket = socketOf(ws) as (Socket & SocketInternals) | undefined;
  if (socket === undefined) return false;
  socket[kOwner] = ws;
  socket[kOnEnd] = listener;
  socket.once('end', socketEndTrampoline);
  return true;
}

function socketEndTrampoline(this: SocketInternals): void {
  const ws = this[kOwner];
  if (ws !== undefined) this[kOnEnd]?.(ws);
}

/** The close code ws tagged one of its receiver's errors with, if it did. */
export function statusCodeOf(error: Error): number | undefined {
  for (const symbol of Object.getOwnPropertySymbols(error)) {
    if (symbol.description === 'status-code') {
      const value = (error as unknown as Record<symbol, unknown>)[symbol];
      if (typeof value === 'number') return value;
    }
  }
  return undefined;
}

/** What a gated receiver does with its next compressed frame. */
export type InflateVerdict = 'inflate' | 'wait' | 'discard';

type DecompressCallback = (error?: Error | null) => void;
type Decompress = (this: GatedReceiver, data: Buffer, callback: DecompressCallback) => void;

const kInflateGate = Symbol('inflate-gate');

interface InflateGate {
  verdict: () => InflateVerdict;
  inflate: Decompress;
  waiting?: [data: Buffer, callback: DecompressCallback];
}

interface GatedReceiver {
  decompress?: Decompress;
  [kInflateGate]?: InflateGate;
}

/** The error a discarded frame fails its receiver with (`isDiscardedBacklog` tells it apart). */
const DISCARDED = 'SIDECAR_BACKLOG_DISCARDED';

/**
 * Asks `verdict` before ws inflates each compressed frame of `ws`: 'wait' keeps the frame (and all
 * behind it) compressed until `retryInflation`; 'discard' fails the receiver, so ws drops the
 * rest and reports the close. Returns false when ws has no receiver with a `decompress`.
 */
export function gateInflation(ws: WebSocket, verdict: () => InflateVerdict): boolean {
  const receiver = receiverOf(ws) as GatedReceiver | undefined;
  const inflate = receiver?.decompress;
  if (receiver === undefined || typeof inflate !== 'function') return false;
  receiver[kInflateGate] = { verdict, inflate };
  receiver.decompress = gatedDecompress;
  return true;
}

/** Asks the verdict again for a frame that was told to wait. */
export function retryInflation(ws: WebSocket): void {
  const receiver = receiverOf(ws) as GatedReceiver | undefined;
  const gate = receiver?.[kInflateGate];
  if (gate?.waiting === undefined) return;
  const [data, callback] = gate.waiting;
  gate.waiting = undefined;
  gatedDecompress.call(receiver!, data, callback);
}

/** Whether `error` is the one a discarded backlog failed the receiver with: no protocol error. */
export function isDiscardedBacklog(error: Error & { code?: string }): boolean {
  return error.code === DISCARDED;
}

function gatedDecompress(this: GatedReceiver, data: Buffer, callback: DecompressCallback): void {
  const gate = this[kInflateGate]!;
  const verdict = gate.verdict();
  if (verdict === 'inflate') gate.inflate.call(this, data, callback);
  else if (verdict === 'wait') gate.waiting = [data, callback];
  else callback(Object.assign(new Error('the client left with more compressed data than the sidecar inflates for it'), { code: DISCARDED }));
}

/**
 * Lets the socket under a paused `ws` be read on: ws keeps parsing what arrives (its receiver
 * buffers it while a frame waits), and `ws.isPaused` stays true. Undone by pausing the socket.
 */
export function readSocketAhead(ws: WebSocket): void {
  const socket = socketOf(ws);
  if (socket !== undefined && !socket.destroyed && socket.isPaused()) socket.resume();
}
