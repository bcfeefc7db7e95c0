/**
 * The HTTP(S) server the WebSocket upgrades arrive on: created from the options (TLS files read
 * and checked here), plain requests answered with 426, and bound to the port with its failures
 * turned into `start_failed` reasons (listen-errors.ts).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { describeListenError, describeTlsInvalid, describeTlsReadError, type StartFailure } from './listen-errors.js';
import type { Logger } from './log.js';
import type { ServerOptions } from './options.js';

/** Where the HTTP server hands its connections. */
export interface ListenerHooks {
  /** A new connection (after the TLS handshake with TLS), before its upgrade request. */
  connection(socket: Duplex): void;
  /** An upgrade request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Creates the HTTP server, or HTTPS with `tls_cert_path`; a TLS file problem is returned as the start failure. */
export function createHttpServer(options: ServerOptions, hooks: ListenerHooks, log: Logger): Server | StartFailure {
  const onRequest = (_req: IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
    res.end('This is a WebSocket server: connect with a WebSocket client.\n');
  };
  let server: Server;
  if (options.tlsCertPath !== '') {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(options.tlsCertPath);
    } catch (error) {
      return describeTlsReadError(error as NodeJS.ErrnoException, 'certificate', options.tlsCertPath);
    }
    try {
      key = readFileSync(options.tlsKeyPath);
    } catch (error) {
      return describeTlsReadError(error as NodeJS.ErrnoException, 'key', options.tlsKeyPath);
    }
    try {
      server = https.createServer({ cert, key, minVersion: 'TLSv1.2', handshakeTimeout: options.handshakeTimeoutMs }, onRequest);
    } catch (error) {
      return describeTlsInvalid(error as Error, options.tlsCertPath, options.tlsKeyPath);
    }
    server.on('secureConnection', (socket: Socket) => hooks.connection(socket));
    server.on('tlsClientError', (error: Error) => log('info', `TLS handshake failed: ${error.message}`));
  } else {
    server = http.createServer(onRequest);
    server.on('connection', (socket: Socket) => hooks.connection(socket));
  }
  server.headersTimeout = options.handshakeTimeoutMs;
  server.requestTimeout = options.handshakeTimeoutMs;
  server.on('clientError', (_error: Error, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => hooks.upgrade(req, socket, head));
  return server;
}

/** What `listen` reports. */
export interface ListenOutcome {
  /** Whether the server is still wanted once bound: a stop may have arrived meanwhile. */
  stillWanted(): boolean;
  /** Bound to `port` (the one the system picked for port 0). */
  listening(port: number): void;
  failed(failure: StartFailure): void;
}

/** Binds `server` to the options' port and host; an unwanted server is closed at once. */
export function listen(server: Server, options: ServerOptions, outcome: ListenOutcome, log: Logger): void {
  const onListenError = (error: NodeJS.ErrnoException): void => outcome.failed(describeListenError(error, options.port, options.host));
  server.once('error', onListenError);
  server.listen({ port: options.port, host: options.host, backlog: 511 }, () => {
    server.off('error', onListenError);
    if (!outcome.stillWanted()) {
      // A stop (or stdin EOF) arrived before the port was bound: release it at once.
      server.close();
      return;
    }
    server.on('error', (error) => log('error', `server error: ${error.message}`));
    const address = server.address();
    outcome.listening(typeof address === 'object' && address !== null ? address.port : options.port);
  });
}
