/**
 * A TypeScript host for the sidecar that speaks protocol/PROTOCOL.md exactly
 * as the Godot addon does: `launch` spawns it and checks its `hello`
 * (sidecar-launch.ts); commands queued in one turn go out in one write
 * (protocol/frame-batch.ts); events are decoded as they arrive, requests
 * waiting for an answer sit in one table (pending-replies.ts), and stderr is
 * drained. Tests, benchmarks and the example server use it.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Command, Event, PROTOCOL_VERSION } from '../protocol/constants.js';
import { FrameBatch } from '../protocol/frame-batch.js';
import { FrameDecoder } from '../protocol/frame-codec.js';
import { parseMessage } from '../protocol/message-codec.js';
import type { AnyCommand, AnyEvent, ClientInfo, StartOptions, Stats } from '../protocol/messages.js';
import { unpackValue } from '../protocol/msgpack.js';
import { PendingReplies } from './pending-replies.js';
import { launchSidecar, type Launched, type LaunchOptions } from './sidecar-launch.js';

export type { LaunchOptions } from './sidecar-launch.js';

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

/**
 * The host's events. Where they mean what a `WebSocketServer` signal means they
 * carry its name in camelCase (`connection_requested`, `connection_request_expired`,
 * `error_reported`, `server_stopped`); `disconnected` is the signal `client_closed`.
 */
export interface SidecarHostEvents {
  connected: [clientId: number, info: ClientInfo];
  text: [clientId: number, text: string];
  binary: [clientId: number, data: Buffer];
  disconnected: [clientId: number, code: number, reason: string, clean: boolean];
  connectionRequested: [requestId: number, info: Omit<ClientInfo, 'subprotocol'>];
  connectionRequestExpired: [requestId: number];
  errorReported: [code: string, message: string, clientId: number];
  serverStopped: [];
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
  private readonly outgoing = new FrameBatch(() => this.flush());
  private readonly replies = new PendingReplies();
  private nextToken = 1;
  private readonly exited: Promise<number | null>;
  private stderrTail: string;
  /** Clients the sidecar reported connected and not yet disconnected. */
  private readonly clientIds = new Set<number>();

  private constructor({ child, hello, afterHello, stderr }: Launched) {
    super();
    this.child = child;
    ({ protocolVersion: this.protocolVersion, sidecarVersion: this.sidecarVersion, capabilities: this.capabilities } = hello);
    this.stderrTail = stderr;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
    child.on('exit', (code, signal) => this.emit('exit', code, signal));
    // 'close' comes after the last stdout byte was read: nothing can answer any more.
    child.once('close', () => this.onClosed());
    child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.onStderr(chunk));
    child.stdout!.resume();
    child.stderr!.resume();
    if (afterHello.length > 0) setImmediate(() => this.onStdout(afterHello));
  }

  /** Spawns the sidecar and waits for its `hello`. Rejects with a clear reason if it never comes. */
  static async launch(options: LaunchOptions = {}): Promise<SidecarHost> {
    return new SidecarHost(await launchSidecar(options));
  }

  /** Sends `start` and resolves once listening; rejects with `StartFailedError`. */
  start(options: StartOptions = {}): Promise<Listening> {
    return this.replies.wait('start', 'start', () => this.send([Command.START, PROTOCOL_VERSION, options]));
  }

  /** Sends `stop` and resolves on `stopped`. */
  stop(): Promise<void> {
    return this.replies.wait('stop', 'stop', () => this.send([Command.STOP]));
  }

  sendText(clientId: number, text: string): void {
    if (isWireClientId(clientId)) this.outgoing.pushMessage(Command.SEND_TEXT, clientId, text, true);
    else this.send([Command.SEND_TEXT, clientId, text]);
  }

  sendBinary(clientId: number, data: Uint8Array): void {
    if (isWireClientId(clientId)) this.outgoing.pushMessage(Command.SEND_BINARY, clientId, data, false);
    else this.send([Command.SEND_BINARY, clientId, data]);
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
  async ping(): Promise<number> {
    const token = this.nextToken++;
    const sentAt = performance.now();
    await this.replies.wait(`pong:${token}`, 'ping', () => this.send([Command.PING, token]));
    return performance.now() - sentAt;
  }

  stats(): Promise<Stats> {
    const token = this.nextToken++;
    return this.replies.wait(`stats:${token}`, 'get_stats', () => this.send([Command.GET_STATS, token]));
  }

  /** Queues a command; everything queued in one turn goes out in one write. */
  send(command: AnyCommand): void {
    this.outgoing.pushValue(command);
  }

  /** Queues any value as a frame, valid command or not (for tests of bad input). */
  sendValue(value: unknown): void {
    this.outgoing.pushValue(value);
  }

  /** Queues raw bytes for stdin (for tests of broken framing). */
  writeRaw(bytes: Buffer): void {
    this.outgoing.pushRaw(bytes);
  }

  /** Writes the queued commands now. */
  flush(): void {
    const data = this.outgoing.take();
    if (data !== undefined && this.child.stdin!.writable) this.child.stdin!.write(data);
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

  /**
   * The sidecar is gone and its stdout fully read. As the Godot addon does, every
   * client still known is reported disconnected with 1006, and waiting requests fail.
   */
  private onClosed(): void {
    const { exitCode: code, signalCode: signal } = this.child;
    this.replies.failAll((what, pending) =>
      pending
        ? new Error(`the sidecar exited (code ${code}, signal ${signal}) before answering ${what}${this.stderrHint()}`)
        : new Error(`the sidecar is not running: it exited (code ${code}, signal ${signal}) before answering ${what}${this.stderrHint()}`),
    );
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
        this.replies.settle('start', { port: event[1], host: event[2], tls: event[3] } satisfies Listening);
        break;
      case Event.START_FAILED:
        this.replies.settle('start', new StartFailedError(event[1], event[2]));
        break;
      case Event.STOPPED:
        this.replies.settle('stop', undefined);
        this.emit('serverStopped');
        break;
      case Event.CONNECTION_REQUEST:
        this.emit('connectionRequested', event[1], event[2]);
        break;
      case Event.REQUEST_EXPIRED:
        this.emit('connectionRequestExpired', event[1]);
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
        this.emit('errorReported', event[1], event[2], event[3]);
        break;
      case Event.PONG:
        this.replies.settle(`pong:${event[1]}`, event[1]);
        break;
      case Event.STATS:
        this.replies.settle(`stats:${event[1]}`, event[2]);
        break;
      default:
        break;
    }
  }
}

/** Ids the message fast path encodes; anything else goes through msgpack, and the sidecar reports it. */
function isWireClientId(clientId: number): boolean {
  return Number.isInteger(clientId) && clientId >= 0 && clientId < 2 ** 53;
}
