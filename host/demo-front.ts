/**
 * The demo's public port: a small HTTP server that answers a browser's plain
 * GET with the chat page (demo-page.ts) and hands every WebSocket upgrade,
 * byte for byte, to the sidecar listening on a loopback port. The sidecar
 * stays what the addon runs (it refuses plain requests with 426); the page
 * is the demo's business, so it lives here and not in the protocol.
 *
 * The sidecar sees each client as coming from 127.0.0.1; `clientAddress`
 * maps the port it reports back to the browser's real address for the log.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { DEMO_PAGE_HTML } from './demo-page.js';

export interface DemoFrontOptions {
  /** Public port; 0 picks a free one. */
  port: number;
  /** Address to bind, e.g. `0.0.0.0`. */
  host: string;
  /** Loopback port the sidecar listens on. */
  sidecarPort: number;
}

export interface DemoFront {
  /** The bound public port. */
  port: number;
  /** The browser's `address:port` behind a connection the sidecar reports from 127.0.0.1:`loopbackPort`. */
  clientAddress(loopbackPort: number): string | undefined;
  /** Stops listening and drops every connection at once. */
  close(): Promise<void>;
}

/** Starts the front server; resolves once it listens. */
export function startDemoFront(options: DemoFrontOptions): Promise<DemoFront> {
  const sockets = new Set<Duplex>();
  const behind = new Map<number, string>();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('only GET\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    if (path !== '/' && path !== '/index.html') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the chat page is at /\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(DEMO_PAGE_HTML);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const upstream = net.connect(options.sidecarPort, '127.0.0.1');
    sockets.add(upstream);
    const from = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    let loopbackPort: number | undefined;
    upstream.once('connect', () => {
      loopbackPort = upstream.localPort;
      if (loopbackPort !== undefined) behind.set(loopbackPort, from);
    });
    upstream.once('close', () => {
      sockets.delete(upstream);
      if (loopbackPort !== undefined) behind.delete(loopbackPort);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    // The request as it arrived (raw header names and order), then whatever followed it.
    const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        clientAddress: (loopbackPort) => behind.get(loopbackPort),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
