/**
 * Shared pieces of the end-to-end tests: a started sidecar, real `ws`
 * clients that record what they receive, and waiting helpers that fail with
 * a message instead of hanging.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { SidecarHost, type Listening } from '../../host/sidecar-host.js';
import type { StartOptions } from '../../protocol/messages.js';

export interface Started {
  host: SidecarHost;
  listening: Listening;
  url: string;
  /** Client ids announced by the host, by the client's remote port. */
  idsByPort: Map<number, number>;
}

const running = new Set<SidecarHost>();

/** Launches a sidecar and starts it on an ephemeral loopback port. */
export async function startSidecar(options: StartOptions = {}, env?: NodeJS.ProcessEnv): Promise<Started> {
  const host = await SidecarHost.launch(env ? { env } : {});
  running.add(host);
  host.once('exit', () => running.delete(host));
  const listening = await host.start({ port: 0, host: '127.0.0.1', heartbeat_interval_ms: 0, ...options });
  const scheme = listening.tls ? 'wss' : 'ws';
  const address = listening.host.includes(':') ? `[${listening.host}]` : listening.host;
  const idsByPort = new Map<number, number>();
  host.on('connected', (id, info) => idsByPort.set(info.port, id));
  host.on('disconnected', (id) => {
    for (const [port, known] of idsByPort) if (known === id) idsByPort.delete(port);
  });
  return { host, listening, url: `${scheme}://${address}:${listening.port}`, idsByPort };
}

/** Ends every sidecar a test launched; for afterEach. */
export async function stopAllSidecars(): Promise<void> {
  await Promise.all(
    [...running].map(async (host) => {
      const exited = host.close();
      const timer = setTimeout(() => host.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * Resolves when `predicate` holds, polling; rejects after `timeoutMs` with `what` in the message,
 * followed by `detail()` (say, a process's output so far) when given.
 */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail === undefined ? '' : `. So far:\n${detail()}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits for one emission of `event` whose arguments satisfy `match`. */
export function nextEvent<A extends unknown[]>(
  emitter: { on(event: string, fn: (...args: never[]) => void): unknown; off(event: string, fn: (...args: never[]) => void): unknown },
  event: string,
  match: (...args: A) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const listener = (...args: never[]): void => {
      if (!match(...(args as unknown as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as unknown as A);
    };
    emitter.on(event, listener);
  });
}

/** A `ws` client that records every message and its close. */
export class RecordingClient {
  readonly ws: WebSocket;
  readonly texts: string[] = [];
  readonly binaries: Buffer[] = [];
  closeCode: number | undefined;
  closeReason = '';

  constructor(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}) {
    const { protocols, ...rest } = options;
    this.ws = new WebSocket(url, protocols ?? [], rest);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.binaries.push(data);
      else this.texts.push(data.toString());
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.ws.on('error', () => {});
  }

  async opened(): Promise<this> {
    if (this.ws.readyState !== WebSocket.OPEN) await once(this.ws, 'open');
    return this;
  }

  async closed(timeoutMs = 10_000): Promise<number> {
    await until(() => this.closeCode !== undefined, 'the client to be closed', timeoutMs);
    return this.closeCode!;
  }
}

/**
 * Opens a client and waits until both the socket and the host's `connected`
 * event for it are there. The event is matched by the client's local port, so
 * many clients may connect at once.
 */
export async function connect(started: Started, path = '/', options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<{ client: RecordingClient; id: number }> {
  const client = await new RecordingClient(started.url + path, options).opened();
  const localPort = (client.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
  await until(() => started.idsByPort.has(localPort), `the host to announce the client on port ${localPort}`);
  return { client, id: started.idsByPort.get(localPort)! };
}
