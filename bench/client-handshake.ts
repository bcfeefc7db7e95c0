/**
 * The opening handshake of the bench's hand-written WebSocket clients (lean-client.ts,
 * stock-wire-client.ts): connect, send the RFC 6455 upgrade request, check for a 101 that
 * carries the right `Sec-WebSocket-Accept`, and hand the socket over with the bytes that
 * followed the response in the same read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface HandshakeTarget {
  /** Host name or address to connect to. */
  hostname: string;
  port: number;
  /** Request target: path and query, `/` at least. */
  path: string;
  /** Local address to connect from; the system's choice when omitted. */
  localAddress?: string;
}

/**
 * Completes the handshake with `target` within `timeoutMs`, then calls `adopt` with the
 * socket and the bytes after the response, in the same tick (so no data event falls between
 * the two), and resolves with what `adopt` returned. Rejects with the reason otherwise.
 */
export function openHandshake<T>(target: HandshakeTarget, timeoutMs: number, adopt: (socket: Socket, rest: Buffer) => T): Promise<T> {
  const key = randomBytes(16).toString('base64');
  const expected = createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
  const where = `${target.hostname}:${target.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: target.port, ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }) });
    socket.setNoDelay(true);
    const timer = setTimeout(() => fail(new Error(`handshake with ${where}${target.path} took over ${timeoutMs} ms`)), timeoutMs);
    let response = Buffer.alloc(0);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    const onData = (chunk: Buffer): void => {
      response = Buffer.concat([response, chunk]);
      const end = response.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onEarlyClose);
      const head = response.subarray(0, end).toString('latin1');
      if (!/^HTTP\/1\.1 101 /.test(head) || !head.toLowerCase().includes(`sec-websocket-accept: ${expected.toLowerCase()}`)) {
        fail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      clearTimeout(timer);
      resolve(adopt(socket, response.subarray(end + 4)));
    };
    const onEarlyClose = (): void => fail(new Error('connection closed during the handshake'));
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onEarlyClose);
    socket.write(
      `GET ${target.path} HTTP/1.1\r\nHost: ${where}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
