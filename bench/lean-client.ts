/**
 * The load generator's WebSocket client for the throughput scenarios (echo and broadcast). It
 * does the RFC 6455 handshake itself, writes prebuilt masked frames, and counts the server's
 * messages without turning them into strings, Buffers or events.
 *
 * Why not `ws`: on 2 cores the load generator shares the machine with the server under test, and
 * a `ws` client spends about as much CPU per message as a `ws` server (masking with a fresh key,
 * parsing, one event per message). The generator then set the ceiling of every echo and
 * broadcast figure, whatever the server. This client costs a fraction of that, so the servers
 * set the figures. Every target faces the same client.
 *
 * One fixed masking key serves every frame, so a frame is built once and sent many times.
 * RFC 6455 asks clients for an unpredictable key per frame (a defence for proxies' caches);
 * servers must accept any key, and that is all a loopback benchmark needs. Not for real use.
 */
import type { Socket } from 'node:net';
import { openHandshake } from './client-handshake.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A whole masked client frame (FIN set) carrying `payload`. */
export function maskedFrame(payload: Uint8Array, opcode: number): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  MASK.copy(frame, head - 4);
  for (let i = 0; i < length; i++) frame[head + i] = payload[i]! ^ MASK[i & 3]!;
  return frame;
}

/** `frame` written `count` times back to back, to answer a batch of messages in one write. */
export function repeatedFrames(frame: Buffer, count: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

const CLOSE_NORMAL = maskedFrame(Buffer.from([0x03, 0xe8]), OP_CLOSE);

export class LeanClient {
  private handler: ((count: number) => void) | undefined;
  /** Messages completed before a handler was set (the handshake's read can carry some). */
  private unclaimed = 0;
  private readonly socket: Socket;
  /** Payload bytes of the current frame still to come. */
  private skip = 0;
  /** Whether the frame being skipped ends a data message. */
  private endsMessage = false;
  /** The start of a frame header that a chunk boundary split. */
  private carry: Buffer | undefined;
  private closed = false;
  readonly whenClosed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.whenClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
  }

  /** Connects and completes the opening handshake, or rejects with the reason. */
  static open(url: string, localAddress: string, timeoutMs: number): Promise<LeanClient> {
    const target = new URL(url);
    const where = { hostname: target.hostname, port: Number(target.port), path: `${target.pathname}${target.search}`, localAddress };
    return openHandshake(where, timeoutMs, (socket, rest) => {
      const client = new LeanClient(socket);
      socket.on('data', (data: Buffer) => client.read(data));
      if (rest.length > 0) client.read(rest);
      return client;
    });
  }

  /** Called once per data chunk with the number of whole messages it completed; at once with any counted before. */
  set onMessages(handler: ((count: number) => void) | undefined) {
    this.handler = handler;
    const count = this.unclaimed;
    this.unclaimed = 0;
    if (handler !== undefined && count > 0) handler(count);
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  send(frames: Buffer): void {
    if (this.isOpen) this.socket.write(frames);
  }

  /** Starts the closing handshake with 1000; the server's close frame or EOF ends the socket. */
  close(): void {
    if (!this.isOpen) return;
    this.closed = true;
    this.socket.end(CLOSE_NORMAL);
  }

  terminate(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    if (this.carry !== undefined) {
      chunk = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let messages = 0;
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, length - pos);
        pos += take;
        this.skip -= take;
        if (this.skip === 0 && this.endsMessage) messages++;
        continue;
      }
      if (length - pos < 2) break;
      const first = chunk[pos]!;
      const second = chunk[pos + 1]!;
      const opcode = first & 0x0f;
      let payload = second & 0x7f;
      let header = 2;
      if (payload === 126) {
        if (length - pos < 4) break;
        payload = chunk.readUInt16BE(pos + 2);
        header = 4;
      } else if (payload === 127) {
        if (length - pos < 10) break;
        payload = Number(chunk.readBigUInt64BE(pos + 2));
        header = 10;
      }
      if (second & 0x80) header += 4; // a server must not mask, but skip a key rather than misparse
      if (opcode >= OP_CLOSE) {
        // Control frames are small (125 bytes at most): handle them only once whole.
        if (length - pos < header + payload) break;
        this.control(opcode, chunk.subarray(pos + header, pos + header + payload));
        pos += header + payload;
        continue;
      }
      if (length - pos < header) break;
      pos += header;
      this.endsMessage = (first & 0x80) !== 0 && opcode <= OP_BINARY && opcode >= OP_CONTINUATION;
      if (payload === 0) {
        if (this.endsMessage) messages++;
      } else this.skip = payload;
    }
    if (pos < length) this.carry = Buffer.from(chunk.subarray(pos));
    if (messages === 0) return;
    if (this.handler !== undefined) this.handler(messages);
    else this.unclaimed += messages;
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) this.send(maskedFrame(payload, OP_PONG));
    else if (opcode === OP_CLOSE) {
      if (!this.closed) {
        this.closed = true;
        this.socket.end(maskedFrame(payload.subarray(0, 2), OP_CLOSE));
      } else this.socket.end();
    }
  }
}
