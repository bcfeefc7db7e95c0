/**
 * A WebSocket client on a bare TCP socket for hostile and conformance tests:
 * it writes hand-made frames (any flags, opcode, masking, length) and parses
 * what the server sends back, so a test can check the exact close code.
 */
import net from 'node:net';
import { until } from './harness.js';

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
}

export interface FrameOptions {
  fin?: boolean;
  /** The three reserved bits as a number 0–7 (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  rsv?: number;
  /** Mask the payload (clients must); default true. */
  mask?: boolean;
}

/** Encodes one frame exactly as asked, however wrong. */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const fin = options.fin ?? true;
  const masked = options.mask ?? true;
  const head: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  if (data.length < 126) head.push(maskBit | data.length);
  else if (data.length < 65536) head.push(maskBit | 126, data.length >> 8, data.length & 0xff);
  else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(data.length));
    head.push(maskBit | 127, ...big);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), data]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const body = Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** A close frame's payload: the code, then the reason bytes. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  response = '';
  ended = false;
  private buffer = Buffer.alloc(0);
  private upgraded = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => {});
  }

  /** Connects and sends an upgrade request with the given extra header lines. */
  static async open(port: number, extraHeaders: string[] = [], path = '/'): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new RawClient(socket);
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        ...extraHeaders,
        '',
        '',
      ].join('\r\n'),
    );
    await until(() => client.upgraded || client.ended, 'the upgrade response');
    if (!client.response.startsWith('HTTP/1.1 101 ')) throw new Error(`upgrade refused: ${client.response}`);
    return client;
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** The close frame the server sent, once it has sent one (or the socket ended without one). */
  async closeFrame(timeoutMs = 5000): Promise<{ code: number | undefined; reason: string } | undefined> {
    await until(() => this.frames.some((f) => f.opcode === 8) || this.ended, 'a close frame from the server', timeoutMs);
    const close = this.frames.find((f) => f.opcode === 8);
    if (close === undefined) return undefined;
    return { code: close.payload.length >= 2 ? close.payload.readUInt16BE(0) : undefined, reason: close.payload.subarray(2).toString() };
  }

  /** Waits for the close frame and returns its code (undefined for an empty close frame). */
  async closeCode(timeoutMs = 5000): Promise<number | undefined> {
    const close = await this.closeFrame(timeoutMs);
    if (close === undefined) throw new Error('the server dropped the connection without a close frame');
    return close.code;
  }

  /** Data frames received so far (text, binary, continuation). */
  dataFrames(): Frame[] {
    return this.frames.filter((f) => f.opcode < 8);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.response = this.buffer.subarray(0, end + 4).toString();
      this.buffer = this.buffer.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!;
      const b1 = this.buffer[1]!;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      this.frames.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, payload: Buffer.from(this.buffer.subarray(offset, offset + length)) });
      this.buffer = this.buffer.subarray(offset + length);
    }
  }
}

/** Sends a raw HTTP request and resolves with the whole response the server wrote before closing. */
export function rawHttp(port: number, request: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got: ${JSON.stringify(reply)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
    socket.write(request);
  });
}
