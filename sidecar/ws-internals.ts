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
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _allowSynchronousEvents?: boolean;
  on?(event: 'conclude', listener: (this: ReceiverInternals, code: number, reason: Buffer) => void): unknown;
  [kOwner]?: WebSocket;
  [kOnCloseFrame]?: CloseFrameListener;
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
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (receiver === undefined || receiver._allowSynchronousEvents !== true) return undefined;
  receiver._allowSynchronousEvents = false;
  return receiver as unknown as DeferredReceiver;
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
