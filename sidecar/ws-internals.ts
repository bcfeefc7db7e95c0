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
 * - `WebSocket#_receiver._totalPayloadLength` and `._messageLength`: the payload bytes the frames
 *   of the message being assembled declared so far (the current frame's as soon as its header is
 *   read) and its decompressed bytes so far, the inbound memory a client holds or is about to
 *   (inbound-total.ts).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _allowSynchronousEvents?: boolean;
  _messageLength?: number;
  _totalPayloadLength?: number;
}

function receiverOf(ws: WebSocket): ReceiverInternals | undefined {
  return (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
}

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
 * Bytes of the message ws's receiver is assembling for `ws`: what its frames declared so far (a
 * frame counts from its header on, before its payload arrives) or, compressed, its decompressed
 * bytes so far, whichever is more. 0 between messages, or when ws has no such fields.
 */
export function unfinishedInboundBytes(ws: WebSocket): number {
  const receiver = receiverOf(ws);
  if (receiver === undefined) return 0;
  return Math.max(receiver._totalPayloadLength ?? 0, receiver._messageLength ?? 0);
}

/** Undoes `deferReceiverEvents`. */
export function restoreReceiverEvents(receiver: DeferredReceiver): void {
  (receiver as unknown as ReceiverInternals)._allowSynchronousEvents = true;
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
