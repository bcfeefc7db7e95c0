/**
 * The HTTP(S) server the WebSocket upgrades arrive on: created from the options (TLS files read
 * and checked here), plain requests answered with 426, and bound to the port with its failures
 * turned into `start_failed` reasons (listen-errors.ts).
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { describeListenError, describeTlsInvalid, describeTlsReadError, type StartFailure } from './listen-errors.js';
import type { Logger } from './log.js';
import type { ServerOptions } from './options.js';
import { ErrorCode, Event } from '../protocol/constants.js';
import type { AnyEvent } from '../protocol/messages.js';

/**
 * File descriptors kept free for everything but connections: stats (/proc reads), TLS files,
 * DNS, zlib, Node's own. Past `connectionBudget`, Node accepts and closes new connections itself
 * ('drop'), so they are counted; at the hard limit libuv would close them unseen.
 */
const RESERVED_DESCRIPTORS = 16;

/** Accept failures are reported at most this often (`accept_failed`, and a `warn:` line). */
const ACCEPT_REPORT_INTERVAL_MS = 1000;

/** Where the HTTP server hands its connections. */
export interface ListenerHooks {
  /** A new connection (after the TLS handshake with TLS), before its upgrade request. */
  connection(socket: Duplex): void;
  /** An upgrade request. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The certificate is outside its validity period: clients will refuse it, the server still starts. */
  certificateOutOfDate(message: string): void;
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
    const outOfDate = certificateValidityProblem(cert, options.tlsCertPath);
    if (outOfDate !== undefined) {
      log('warn', outOfDate);
      hooks.certificateOutOfDate(outOfDate);
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
  /** The bound server could not accept a connection: out of file descriptors (EMFILE/ENFILE). */
  acceptFailed(error: NodeJS.ErrnoException): void;
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
    const budget = connectionBudget();
    if (budget !== undefined) {
      server.maxConnections = budget;
      server.on('drop', () => outcome.acceptFailed(Object.assign(new Error('out of file descriptors'), { code: 'EMFILE' })));
    }
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EMFILE' || error.code === 'ENFILE') outcome.acceptFailed(error);
      else log('error', `server error: ${error.message}`);
    });
    const address = server.address();
    outcome.listening(typeof address === 'object' && address !== null ? address.port : options.port);
  });
}

/**
 * How many connections fit in the descriptors left (the soft RLIMIT_NOFILE minus those open now and
 * `RESERVED_DESCRIPTORS`), or undefined where /proc does not tell (not Linux) or it does not matter
 * (over a million). libuv, out of descriptors, accepts and closes pending connections without a
 * word (its EMFILE trick), so the listener is kept below the limit where Node reports each one.
 */
function connectionBudget(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'latin1');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    if (!Number.isInteger(soft) || soft > 1_000_000) return undefined;
    const open = readdirSync('/proc/self/fd').length;
    return Math.max(1, soft - open - RESERVED_DESCRIPTORS);
  } catch {
    return undefined;
  }
}

/**
 * Connections the listener could not accept for want of file descriptors: counted for `stats`
 * (`accept_errors`) and reported at most once a second, as an `accept_failed` error event and a
 * `warn:` line, each naming the connections lost since the last report. Node's listener keeps
 * running after such an error; without this the clients were simply reset, unseen.
 */
export class AcceptFailures {
  /** Connections lost since the server started. */
  total = 0;
  private unreported = 0;
  private lastCode = '';
  private lastReportAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly emit: (event: AnyEvent) => void;
  private readonly log: Logger;

  constructor(emit: (event: AnyEvent) => void, log: Logger) {
    this.emit = emit;
    this.log = log;
  }

  /** Counts one failed accept; reports now, or at the end of the current one-second window. */
  add(error: NodeJS.ErrnoException): void {
    this.total++;
    this.unreported++;
    this.lastCode = error.code ?? 'EMFILE';
    if (this.timer !== undefined) return;
    const waitMs = this.lastReportAt + ACCEPT_REPORT_INTERVAL_MS - performance.now();
    if (waitMs <= 0) this.report();
    else this.timer = setTimeout(this.report, waitMs);
  }

  /** A new server: counts from zero, and nothing pending is reported. */
  reset(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.total = 0;
    this.unreported = 0;
  }

  private readonly report = (): void => {
    this.timer = undefined;
    this.lastReportAt = performance.now();
    const message =
      `${this.unreported} connection(s) could not be accepted: the process is out of file descriptors (${this.lastCode}); ` +
      'raise the limit (ulimit -n) or lower max_clients';
    this.unreported = 0;
    this.log('warn', message);
    this.emit([Event.ERROR, ErrorCode.ACCEPT_FAILED, message, 0]);
  };
}

/**
 * Why clients will refuse the first certificate of `pem` today (expired, or not valid yet);
 * undefined when it is in date or cannot be parsed (https.createServer has judged it usable).
 */
export function certificateValidityProblem(pem: Buffer, path: string, now = new Date()): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return undefined;
  }
  const from = new Date(certificate.validFrom);
  const to = new Date(certificate.validTo);
  if (now > to) return `the TLS certificate "${path}" expired on ${to.toISOString()}: clients will refuse to connect; renew it`;
  if (now < from) return `the TLS certificate "${path}" is not valid before ${from.toISOString()}: clients will refuse to connect; check this machine's clock`;
  return undefined;
}
