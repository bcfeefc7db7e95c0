/**
 * A TypeScript host for the sidecar that speaks protocol/PROTOCOL.md exactly
 * as the Godot addon does: it spawns the sidecar with piped stdio, checks the
 * `hello` versions, queues commands and writes them in one write per turn,
 * decodes events as they arrive and drains stderr. Tests, benchmarks and the
 * example server use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Command, Event, LENGTH_PREFIX_BYTES, PROTOCOL_VERSION } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/frame-codec.js';
import { encodeMessageHead, parseMessage } from '../protocol/message-codec.js';
import type { AnyCommand, AnyEvent, ClientInfo, StartOptions, Stats } from '../protocol/messages.js';
import { packValue, unpackValue } from '../protocol/msgpack.js';
import { resolveSidecarCommand, type SidecarCommand } from './sidecar-locator.js';

export interface LaunchOptions {
  /** Program and arguments to run; default: `resolveSidecarCommand()`. */
  command?: SidecarCommand;
  /** Environment of the child; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Time to wait for `hello`; default 10000 ms. */
  helloTimeoutMs?: number;
  /** Sidecar version the host insists on; default: any. */
  expectedSidecarVersion?: string;
}

/** `start_failed`, as an exception. */
export class StartFailedError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'StartFailedError';
    this.code = code;
  }
}

export interface Listening {
  port: number;
  host: string;
  tls: boolean;
}

export interface SidecarHostEvents {
  connected: [clientId: number, info: ClientInfo];
  text: [clientId: number, text: string];
  binary: [clientId: number, data: Buffer];
  disconnected: [clientId: number, code: number, reason: string, clean: boolean];
  request: [requestId: number, info: Omit<ClientInfo, 'subprotocol'>];
  requestExpired: [requestId: number];
  sidecarError: [code: string, message: string, clientId: number];
  stopped: [];
  log: [level: string, line: string];
  exit: [code: number | null, signal: NodeJS.Signals | null];
  event: [event: AnyEvent];
}

export class SidecarHost extends EventEmitter<SidecarHostEvents> {
  readonly child: ChildProcess;
  readonly protocolVersion: number;
  readonly sidecarVersion: string;
  readonly capabilities: string[];
  private readonly decoder = new FrameDecoder();
  private outgoing: Buffer[] = [];
  private outgoingBytes = 0;
  private flushScheduled = false;
  private nextToken = 1;
  private readonly pongs = new Map<number, (rtt: number) => void>();
  private readonly statsWaiters = new Map<number, (stats: Stats) => void>();
  private startWaiter: { resolve: (l: Listening) => void; reject: (e: Error) => void } | undefined;
  private exited: Promise<number | null>;
  private stderrTail = '';
  /** Clients the sidecar reported connected and not yet disconnected. */
  private readonly clientIds = new Set<number>();
  /** Rejections of requests still waiting for an answer, run once the sidecar is gone. */
  private readonly onGone = new Set<() => void>();
  private gone = false;

  private constructor(child: ChildProcess, hello: [number, string, string[]], buffered: Buffer) {
    super();
    this.child = child;
    [this.protocolVersion, this.sidecarVersion, this.capabilities] = hello;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
    child.on('exit', (code, signal) => {
      this.startWaiter?.reject(new Error(`the sidecar exited (code ${code}, signal ${signal}) before answering start${this.stderrHint()}`));
      this.startWaiter = undefined;
      this.emit('exit', code, signal);
    });
    // 'close' comes after the last stdout byte was read: nothing can answer any more.
    child.once('close', () => this.onClosed());
    child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    if (buffered.length > 0) setImmediate(() => this.onStdout(buffered));
  }

  /** Spawns the sidecar and waits for its `hello`. Rejects with a clear reason if it never comes. */
  static launch(options: LaunchOptions = {}): Promise<SidecarHost> {
    const command = options.command ?? resolveSidecarCommand();
    const child = spawn(command.file, command.args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const timeoutMs = options.helloTimeoutMs ?? 10_000;
    let stderr = '';
    const onStderr = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    };
    child.stderr!.on('data', onStderr);
    return new Promise((resolve, reject) => {
      const decoder = new FrameDecoder();
      const fail = (why: string): void => {
        cleanup();
        child.kill('SIGKILL');
        reject(new Error(`${why} (sidecar: ${command.file} ${command.args.join(' ')})${stderr ? `; its stderr said: ${stderr.trim()}` : ''}`));
      };
      const timer = setTimeout(() => fail(`the sidecar sent no hello within ${timeoutMs} ms`), timeoutMs);
      const onError = (error: Error): void => fail(`the sidecar could not be started: ${error.message}`);
      const onExit = (code: number | null): void => fail(`the sidecar exited with code ${code} before its hello`);
      let received: Buffer[] = [];
      const onData = (chunk: Buffer): void => {
        received.push(chunk);
        let frames: Buffer[];
        try {
          frames = decoder.push(chunk);
        } catch (error) {
          fail(`the sidecar's first bytes are not a frame: ${(error as Error).message}`);
          return;
        }
        if (frames.length === 0) return;
        const hello = unpackValue(frames[0]!) as unknown[];
        if (!Array.isArray(hello) || hello[0] !== Event.HELLO) {
          fail(`the sidecar's first frame is not hello: ${JSON.stringify(hello)}`);
          return;
        }
        const [, protocolVersion, sidecarVersion, capabilities] = hello as [number, number, string, string[]];
        if (protocolVersion !== PROTOCOL_VERSION) {
          fail(`the sidecar speaks protocol ${protocolVersion}, this host speaks ${PROTOCOL_VERSION}: use a sidecar from the same release`);
          return;
        }
        if (options.expectedSidecarVersion !== undefined && sidecarVersion !== options.expectedSidecarVersion) {
          fail(`the sidecar is version ${sidecarVersion}, this host needs ${options.expectedSidecarVersion}: rebuild it (npm run build)`);
          return;
        }
        cleanup();
        // Whatever followed hello in the same reads is handed to the host.
        const all = Buffer.concat(received);
        received = [];
        const helloLength = LENGTH_PREFIX_BYTES + all.readUInt32LE(0);
        const host = new SidecarHost(child, [protocolVersion, sidecarVersion, capabilities], all.subarray(helloLength));
        host.stderrTail = stderr;
        child.stderr!.on('data', (chunk: Buffer) => host.onStderr(chunk));
        resolve(host);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.off('error', onError);
        child.off('exit', onExit);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onStderr);
      };
      child.once('error', onError);
      child.once('exit', onExit);
      child.stdout!.on('data', onData);
    });
  }

  /** Sends `start` and resolves once listening; rejects with `StartFailedError`. */
  start(options: StartOptions = {}): Promise<Listening> {
    return new Promise((resolve, reject) => {
      if (this.gone) {
        reject(new Error(`the sidecar is not running (it exited with code ${this.child.exitCode}, signal ${this.child.signalCode})${this.stderrHint()}`));
        return;
      }
      this.startWaiter = { resolve, reject };
      this.send([Command.START, PROTOCOL_VERSION, options]);
    });
  }

  /** Sends `stop` and resolves on `stopped`. */
  stop(): Promise<void> {
    return this.answered('stop', (resolve) => {
      this.once('stopped', resolve);
      this.send([Command.STOP]);
    });
  }

  sendText(clientId: number, text: string): void {
    if (!isWireClientId(clientId)) return this.send([Command.SEND_TEXT, clientId, text]);
    const n = Buffer.byteLength(text);
    const { frame, payloadAt } = messageFrame(Command.SEND_TEXT, clientId, n, true);
    frame.write(text, payloadAt);
    this.writeRaw(frame);
  }

  sendBinary(clientId: number, data: Uint8Array): void {
    if (!isWireClientId(clientId)) return this.send([Command.SEND_BINARY, clientId, data]);
    const { frame, payloadAt } = messageFrame(Command.SEND_BINARY, clientId, data.length, false);
    frame.set(data, payloadAt);
    this.writeRaw(frame);
  }

  broadcastText(text: string, exclude = 0): void {
    this.send([Command.BROADCAST_TEXT, text, exclude]);
  }

  broadcastBinary(data: Uint8Array, exclude = 0): void {
    this.send([Command.BROADCAST_BINARY, data, exclude]);
  }

  joinRoom(clientId: number, room: string): void {
    this.send([Command.JOIN_ROOM, clientId, room]);
  }

  leaveRoom(clientId: number, room: string): void {
    this.send([Command.LEAVE_ROOM, clientId, room]);
  }

  roomText(room: string, text: string, exclude = 0): void {
    this.send([Command.ROOM_TEXT, room, text, exclude]);
  }

  roomBinary(room: string, data: Uint8Array, exclude = 0): void {
    this.send([Command.ROOM_BINARY, room, data, exclude]);
  }

  disconnect(clientId: number, code = 1000, reason = ''): void {
    this.send([Command.DISCONNECT, clientId, code, reason]);
  }

  accept(requestId: number, subprotocol = ''): void {
    this.send([Command.ACCEPT, requestId, subprotocol]);
  }

  reject(requestId: number, httpStatus = 403, reason = ''): void {
    this.send([Command.REJECT, requestId, httpStatus, reason]);
  }

  /** Round trip through the sidecar's command loop, in milliseconds. */
  ping(): Promise<number> {
    const token = this.nextToken++;
    const sentAt = performance.now();
    return this.answered('ping', (resolve) => {
      this.pongs.set(token, () => resolve(performance.now() - sentAt));
      this.send([Command.PING, token]);
    });
  }

  stats(): Promise<Stats> {
    const token = this.nextToken++;
    return this.answered('get_stats', (resolve) => {
      this.statsWaiters.set(token, resolve);
      this.send([Command.GET_STATS, token]);
    });
  }

  /** Queues a command; everything queued in one turn goes out in one write. */
  send(command: AnyCommand): void {
    this.sendValue(command);
  }

  /** Queues any value as a frame, valid command or not (for tests of bad input). */
  sendValue(value: unknown): void {
    const body = packValue(value);
    // Prefix and body are queued separately: flush() copies every queued piece once, into one buffer.
    const prefix = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
    prefix.writeUInt32LE(body.length, 0);
    this.writeRaw(prefix);
    this.writeRaw(body);
  }

  /** Queues raw bytes for stdin (for tests of broken framing). */
  writeRaw(bytes: Buffer): void {
    this.outgoing.push(bytes);
    this.outgoingBytes += bytes.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the queued commands now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0) return;
    const data = this.outgoing.length === 1 ? this.outgoing[0]! : Buffer.concat(this.outgoing, this.outgoingBytes);
    this.outgoing = [];
    this.outgoingBytes = 0;
    if (this.child.stdin!.writable) this.child.stdin!.write(data);
  }

  /** Stops reading stdout (as a stalled game would) or resumes. */
  setReading(reading: boolean): void {
    if (reading) this.child.stdout!.resume();
    else this.child.stdout!.pause();
  }

  /** Closes stdin, as a host that quits does, and resolves with the exit code. */
  async close(): Promise<number | null> {
    this.flush();
    this.child.stdin!.end();
    return this.exited;
  }

  /** Resolves with the exit code once the process is gone. */
  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  /** The last few kilobytes the sidecar wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Resolves as `executor` does, or rejects once the sidecar is gone, so no caller waits forever. */
  private answered<T>(what: string, executor: (resolve: (value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (): void =>
        reject(new Error(`the sidecar exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before answering ${what}${this.stderrHint()}`));
      if (this.gone) {
        fail();
        return;
      }
      this.onGone.add(fail);
      executor((value) => {
        this.onGone.delete(fail);
        resolve(value);
      });
    });
  }

  /**
   * The sidecar is gone and its stdout fully read. As the Godot addon does, every
   * client still known is reported disconnected with 1006, and waiting requests fail.
   */
  private onClosed(): void {
    this.gone = true;
    for (const fail of this.onGone) fail();
    this.onGone.clear();
    const ids = [...this.clientIds];
    this.clientIds.clear();
    for (const id of ids) this.emit('disconnected', id, 1006, 'the sidecar exited', false);
  }

  private onStderr(chunk: Buffer): void {
    const text = chunk.toString();
    this.stderrTail = (this.stderrTail + text).slice(-8000);
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const colon = line.indexOf(': ');
      this.emit('log', colon > 0 ? line.slice(0, colon) : 'info', colon > 0 ? line.slice(colon + 2) : line);
    }
  }

  private stderrHint(): string {
    return this.stderrTail ? `; its stderr said: ${this.stderrTail.trim().slice(-1000)}` : '';
  }

  private onStdout(chunk: Buffer): void {
    // Client messages skip msgpackr, unless someone listens to every raw event.
    const fast = this.listenerCount('event') === 0;
    for (const frame of this.decoder.push(chunk)) {
      const message = fast ? parseMessage(frame, Event.TEXT, Event.BINARY) : undefined;
      if (message === undefined) this.onEvent(unpackValue(frame) as AnyEvent);
      else if (message.binary) this.emit('binary', message.clientId, message.data);
      else this.emit('text', message.clientId, message.data.toString());
    }
  }

  private onEvent(event: AnyEvent): void {
    this.emit('event', event);
    switch (event[0]) {
      case Event.LISTENING:
        this.startWaiter?.resolve({ port: event[1], host: event[2], tls: event[3] });
        this.startWaiter = undefined;
        break;
      case Event.START_FAILED:
        this.startWaiter?.reject(new StartFailedError(event[1], event[2]));
        this.startWaiter = undefined;
        break;
      case Event.STOPPED:
        this.emit('stopped');
        break;
      case Event.CONNECTION_REQUEST:
        this.emit('request', event[1], event[2]);
        break;
      case Event.REQUEST_EXPIRED:
        this.emit('requestExpired', event[1]);
        break;
      case Event.CLIENT_CONNECTED:
        this.clientIds.add(event[1]);
        this.emit('connected', event[1], event[2]);
        break;
      case Event.TEXT:
        this.emit('text', event[1], event[2]);
        break;
      case Event.BINARY: {
        // msgpackr hands out a view into the frame, which the decoder never reuses: no copy needed.
        const data = event[2];
        this.emit('binary', event[1], Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        break;
      }
      case Event.CLIENT_DISCONNECTED:
        this.clientIds.delete(event[1]);
        this.emit('disconnected', event[1], event[2], event[3], event[4]);
        break;
      case Event.ERROR:
        this.emit('sidecarError', event[1], event[2], event[3]);
        break;
      case Event.PONG: {
        const resolve = this.pongs.get(event[1]);
        this.pongs.delete(event[1]);
        resolve?.(0);
        break;
      }
      case Event.STATS: {
        const resolve = this.statsWaiters.get(event[1]);
        this.statsWaiters.delete(event[1]);
        resolve?.(event[2]);
        break;
      }
      default:
        break;
    }
  }
}

/** Ids the message fast path encodes; anything else goes through msgpack, and the sidecar reports it. */
function isWireClientId(clientId: number): boolean {
  return Number.isInteger(clientId) && clientId >= 0 && clientId < 2 ** 32;
}

/** A whole frame for `[op, clientId, <n-byte str|bin>]`, prefix included, with the payload left to fill in at `payloadAt`. */
function messageFrame(op: number, clientId: number, n: number, isText: boolean): { frame: Buffer; payloadAt: number } {
  const head = encodeMessageHead(op, clientId, n, isText);
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + head.length + n);
  frame.writeUInt32LE(head.length + n, 0);
  head.copy(frame, LENGTH_PREFIX_BYTES);
  return { frame, payloadAt: LENGTH_PREFIX_BYTES + head.length };
}
