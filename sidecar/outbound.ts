/**
 * Messages on their way to clients: one send path for single sends and fan-outs, each client's
 * socket corked for the turn, a fan-out's frame built once and shared, and `max_outbound_buffer`
 * enforced on what a client leaves unread.
 */
import type { Socket } from 'node:net';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';
import { closeClient, isClosing, type Client } from './client.js';
import { socketOf } from './ws-internals.js';

export class Outbound {
  /** `max_outbound_buffer` of the running server; Infinity when stopped. */
  maxBuffer = Infinity;
  /** Whether the running server compresses (then no frame is shared). */
  permessageDeflate = false;
  messagesOut = 0;
  bytesOut = 0;
  private readonly emit: (event: AnyEvent) => void;
  /** Client sockets corked during this turn (see `corkForThisTurn`). */
  private readonly corked = new Map<Socket, Client>();

  /** @param emit receives the `outbound_overflow` error events */
  constructor(emit: (event: AnyEvent) => void) {
    this.emit = emit;
  }

  /**
   * Sends one message to `client` (nothing once it is closing: a command naming it was answered
   * `client_closing` before it got here, and a fan-out skips it). `frame`, from `sharedFrame`, is
   * the same message already framed, written as-is when the socket can take it directly.
   */
  deliver(client: Client, data: Uint8Array, binary: boolean, frame?: Buffer): void {
    if (isClosing(client)) return;
    const ws = client.ws;
    const socket = this.corkForThisTurn(client);
    if (frame !== undefined && socket !== undefined) socket.write(frame);
    else ws.send(data, { binary });
    this.messagesOut++;
    this.bytesOut += data.length;
    // A corked socket is checked when the turn's writes reach the kernel (uncorkAll).
    if (socket === undefined) this.checkOutbound(client);
  }

  /** Sends `payload` to each of `clients` (`count` of them) but `exclude` (0 for none), framed once. */
  fanOut(clients: Iterable<Client>, count: number, payload: string | Uint8Array, exclude: number): void {
    const [data, binary] = toPayload(payload);
    const frame = this.sharedFrame(data, binary, count);
    for (const client of clients) {
      if (client.id !== exclude) this.deliver(client, data, binary, frame);
    }
  }

  /**
   * The WebSocket frame of a fan-out to `recipients` clients, built once and written as-is to every
   * recipient. Only without permessage-deflate: then ws's sender never queues (ws-internals.ts),
   * so writing to the socket directly keeps frames in order, and the bytes count in
   * `bufferedAmount` like any other send.
   */
  sharedFrame(data: Uint8Array, binary: boolean, recipients: number): Buffer | undefined {
    if (this.permessageDeflate || recipients < 2) return undefined;
    return frameUnmasked(data, binary);
  }

  /**
   * Closes a client whose queued outbound bytes passed `max_outbound_buffer`. What counts is what
   * waits on that client: the bytes in its socket, after compression (pongs included: this is also
   * called after ws answered a client's ping). Messages still waiting for ws's compressor (its
   * sender's queue) are not counted: with permessage-deflate a burst the host sent in one turn sits
   * there whole, whether the client reads or not, and counting it at its uncompressed size closed
   * clients that read normally (issue #12, defect 5). Once compressed they wait in the socket, and
   * the next send to that client checks them.
   */
  checkOutbound(client: Client): void {
    const ws = client.ws;
    const limit = this.maxBuffer;
    if (isClosing(client)) return;
    const waiting = socketOf(ws)?.writableLength ?? ws.bufferedAmount;
    if (waiting > limit) {
      this.emit([
        Event.ERROR,
        ErrorCode.OUTBOUND_OVERFLOW,
        `client ${client.id} is not reading: ${waiting} bytes were queued for it, past max_outbound_buffer (${limit}), so it was closed with 1008`,
        client.id,
      ]);
      closeClient(client, 1008, 'outbound buffer limit exceeded', 0);
    }
  }

  /**
   * Corks the client's socket until the end of the current turn, so every message the host sent
   * it in one batch leaves in one writev instead of one syscall each (ws corks only per message).
   * The outbound limit is checked once those writes reached the kernel, so it counts what the
   * client really left unread, as it did when every message was written on its own.
   */
  private corkForThisTurn(client: Client): Socket | undefined {
    const socket = socketOf(client.ws);
    if (socket === undefined) return undefined;
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
}

/** A host payload as bytes: text is encoded once, not once per recipient (ws sends a Buffer with binary: false as a text frame). */
export function toPayload(payload: string | Uint8Array): [Uint8Array, boolean] {
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
