/**
 * Clients for the attack tests: bare TCP sockets that write a hand-made
 * upgrade request (so a test controls every header and byte), and `ws`
 * clients for the cases that need a real RFC 6455 peer (compression).
 * Every client opened here is destroyed by `destroyAllClients`.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import WebSocket, { type ClientOptions } from 'ws';

const sockets = new Set<net.Socket>();
const websockets = new Set<WebSocket>();

/** Destroys every socket and `ws` client the current test opened; use in `afterEach`. */
export function destroyAllClients(): void {
  for (const socket of sockets) socket.destroy();
  for (const ws of websockets) ws.terminate();
  sockets.clear();
  websockets.clear();
}

export interface UpgradeRequest {
  /** The request target exactly as written on the request line; default `/`. */
  target?: string;
  /** Extra header lines, written as given (values may hold anything). */
  headers?: Record<string, string>;
}

/** The text of an RFC 6455 upgrade request. */
export function upgradeRequest(port: number, request: UpgradeRequest = {}): string {
  const lines = [
    `GET ${request.target ?? '/'} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(request.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface RawClient {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** The response head (up to the blank line), once it arrived; rejects on close or timeout. */
  head(timeoutMs?: number): Promise<string>;
  /** Resolves when the socket closes, with whether it was reset by the peer. */
  closed: Promise<{ reset: boolean }>;
}

/**
 * Opens a TCP connection to 127.0.0.1:`port` and writes `request` (an upgrade by default).
 * The socket is half-open capable: a FIN from the server does not close it, so a test
 * plays a client that keeps TCP open until it calls `end()` or `destroy()`.
 */
export function openRaw(port: number, request: string | Buffer | null = upgradeRequest(port)): RawClient {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  sockets.add(socket);
  let data = Buffer.alloc(0);
  let reset = false;
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    socket.emit('received');
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
  });
  const closed = new Promise<{ reset: boolean }>((resolve) => socket.once('close', () => resolve({ reset })));
  if (request !== null) socket.write(request);
  const head = (timeoutMs = 5000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        cleanup();
        resolve(data.subarray(0, end).toString('latin1'));
      };
      const fail = (): void => {
        cleanup();
        reject(new Error(`no response head (got ${JSON.stringify(data.toString('latin1').slice(0, 200))})`));
      };
      const timer = setTimeout(fail, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('received', check);
        socket.off('close', fail);
      };
      socket.on('received', check);
      socket.once('close', fail);
      check();
    });
  return { socket, received: () => data, head, closed };
}

/** Opens a `ws` client and waits for it to be open (rejects on error or unexpected response). */
export function openWs(port: number, options: ClientOptions & { path?: string; protocols?: string[] } = {}): Promise<WebSocket> {
  const { path = '/', protocols, ...rest } = options;
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols ?? [], rest);
  websockets.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
  });
}

/** Opens `count` `ws` clients, `batch` at a time. */
export async function openManyWs(port: number, count: number, options: ClientOptions = {}, batch = 20): Promise<WebSocket[]> {
  const opened: WebSocket[] = [];
  for (let i = 0; i < count; i += batch) {
    const group = Array.from({ length: Math.min(batch, count - i) }, () => openWs(port, options));
    opened.push(...(await Promise.all(group)));
  }
  return opened;
}

/** A masked client frame (clients must mask), for raw sockets; `compressed` sets RSV1 (permessage-deflate). */
export function clientFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true, compressed = false): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head: number[] = [(fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode];
  if (data.length < 126) head.push(0x80 | data.length);
  else if (data.length < 65536) head.push(0x80 | 126, data.length >> 8, data.length & 0xff);
  else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(data.length));
    head.push(0x80 | 127, ...big);
  }
  const key = [0x11, 0x22, 0x33, 0x44];
  return Buffer.concat([Buffer.from(head), Buffer.from(key), Buffer.from(data.map((byte, i) => byte ^ key[i % 4]!))]);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Splits what a server sent after its response head into frames (server frames are unmasked). */
export function serverFrames(received: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const start = received.indexOf('\r\n\r\n');
  let data = start < 0 ? Buffer.alloc(0) : received.subarray(start + 4);
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  while (data.length >= 2) {
    let length = data[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (data.length < 4) break;
      length = data.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (data.length < 10) break;
      length = Number(data.readBigUInt64BE(2));
      offset = 10;
    }
    if (data.length < offset + length) break;
    frames.push({ opcode: data[0]! & 0x0f, payload: data.subarray(offset, offset + length) });
    data = data.subarray(offset + length);
  }
  return frames;
}

/** A close frame payload: the code, then the reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** Opens a raw client and waits for its 101, so it can write frames. */
export async function openUpgradedRaw(port: number, request?: string): Promise<RawClient> {
  const client = openRaw(port, request ?? upgradeRequest(port));
  const head = await client.head();
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
  return client;
}

/** Polls `probe` every 20 ms until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/** The upgrade request header that offers permessage-deflate. */
export const OFFER_DEFLATE = { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_no_context_takeover' };

/**
 * One compressed binary message as permessage-deflate sends it (RFC 7692 §7.2.1: a raw
 * deflate stream, sync-flushed, without its last 4 bytes), framed and masked.
 */
export function compressedBinaryFrame(message: Buffer): Buffer {
  const deflated = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return clientFrame(0x2, deflated.subarray(0, deflated.length - 4), true, true);
}

/** 300 messages of 1,000,000 zero bytes, compressed: about 300 KiB on the wire, 286 MiB inflated. */
export function deflateBomb(): Buffer {
  return Buffer.concat(Array.from({ length: 300 }, () => compressedBinaryFrame(Buffer.alloc(1_000_000))));
}

export interface ManyUpgradedRawOptions {
  /** Whether each client offers permessage-deflate (`OFFER_DEFLATE`). Default false. */
  deflate?: boolean;
  /** How many clients open at once. Default: all of them. */
  batch?: number;
}

/** Opens `count` raw clients and waits for each one's 101, `batch` at a time. */
export async function openManyUpgradedRaw(port: number, count: number, options: ManyUpgradedRawOptions = {}): Promise<RawClient[]> {
  const { deflate = false, batch = count } = options;
  const request = deflate ? upgradeRequest(port, { headers: OFFER_DEFLATE }) : undefined;
  const opened: RawClient[] = [];
  for (let i = 0; i < count; i += batch) {
    opened.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => openUpgradedRaw(port, request)))));
  }
  return opened;
}
