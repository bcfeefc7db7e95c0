/**
 * A host for attack tests, written from `protocol/PROTOCOL.md` alone: it
 * spawns the built sidecar (`dist/sidecar.cjs`), writes raw bytes to its
 * stdin, decodes the frames on its stdout with msgpackr, and can stop
 * reading stdout to play a stalled host. Nothing here comes from `host/` or
 * `sidecar/`, so the attacks keep their meaning while those are rebuilt.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Unpackr } from 'msgpackr';
import { Command, Event, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { commandFrame, type WireValue } from './attack-msgpack.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(REPO_ROOT, 'dist', 'sidecar.cjs');
const MiB = 1024 * 1024;

/** Strict decoding: plain maps as objects, 64-bit integers as bigint so nothing is rounded unseen. */
const unpackr = new Unpackr({ mapsAsObjects: true, useRecords: false, int64AsType: 'bigint' });

/** Newest modification time of the files the bundle is built from. */
function newestSource(): number {
  let newest = 0;
  for (const folder of ['sidecar', 'protocol']) {
    for (const name of readdirSync(join(REPO_ROOT, folder), { recursive: true }) as string[]) {
      if (name.endsWith('.ts')) newest = Math.max(newest, statSync(join(REPO_ROOT, folder, name)).mtimeMs);
    }
  }
  return newest;
}

/** Builds `dist/sidecar.cjs` when it is missing or older than its sources. */
export function buildSidecarIfStale(): void {
  let built = 0;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newestSource()) execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

/** One decoded event: the array PROTOCOL.md describes, opcode first. */
export type WireEvent = [number, ...unknown[]];

export interface SpawnOptions {
  /** Soft and hard RLIMIT_NOFILE for the child (spawned through `prlimit`). */
  nofile?: number;
}

export interface Listening {
  port: number;
}

const running = new Set<AttackHost>();

/** Kills every sidecar the current test spawned; use in `afterEach`. */
export async function killAllAttackHosts(): Promise<void> {
  await Promise.all([...running].map((host) => host.kill()));
}

export class AttackHost {
  readonly child: ChildProcess;
  readonly events: WireEvent[] = [];
  /** The msgpack body of each event, index for index with `events`, to check the exact encoding. */
  readonly bodies: Buffer[] = [];
  stderr = '';
  /** Frames that could not be decoded, or values that were not arrays: a broken sidecar. */
  readonly garbage: string[] = [];
  readonly exited: Promise<number | null>;
  private pending: Buffer = Buffer.alloc(0);
  private waiters = new Set<() => void>();

  private constructor(options: SpawnOptions) {
    const [file, args] =
      options.nofile === undefined
        ? [process.execPath, [BUNDLE]]
        : ['prlimit', [`--nofile=${options.nofile}:${options.nofile}`, process.execPath, BUNDLE]];
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => this.take(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      this.wake();
    });
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      running.delete(this);
      this.wake();
      resolve(code);
    }));
    running.add(this);
  }

  /** Spawns a sidecar and waits for its `hello`. */
  static async spawn(options: SpawnOptions = {}): Promise<AttackHost> {
    buildSidecarIfStale();
    const host = new AttackHost(options);
    await host.next(Event.HELLO);
    return host;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resident memory of the sidecar in bytes (VmRSS from /proc). */
  rss(): number {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    if (match === null) throw new Error(`sidecar ${this.pid} has no VmRSS: it exited (stderr: ${this.stderr})`);
    return Number(match[1]) * 1024;
  }

  rssMiB(): number {
    return this.rss() / MiB;
  }

  /** Writes bytes to stdin exactly as given, in one write. */
  write(bytes: Buffer): void {
    this.child.stdin!.write(bytes);
  }

  /** Writes one well-formed command. */
  send(opcode: number, ...args: WireValue[]): void {
    this.write(commandFrame(opcode, ...args));
  }

  /** Stops reading stdout: the pipe fills and the sidecar sees a stalled host. */
  stallStdout(): void {
    this.child.stdout!.pause();
  }

  resumeStdout(): void {
    this.child.stdout!.resume();
  }

  /** Sends `start` on 127.0.0.1 port 0 with `options` and waits for `listening`. */
  async start(options: Record<string, WireValue> = {}): Promise<Listening> {
    this.send(Command.START, PROTOCOL_VERSION, { host: '127.0.0.1', port: 0, ...options });
    const answer = await this.next((e) => e[0] === Event.LISTENING || e[0] === Event.START_FAILED);
    if (answer[0] !== Event.LISTENING) throw new Error(`start failed: ${JSON.stringify(answer)}`);
    return { port: answer[1] as number };
  }

  /** Asks for stats and returns the map (or throws on timeout). */
  async stats(token = 7, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const from = this.events.length;
    this.send(Command.GET_STATS, token);
    const answer = await this.next((e) => e[0] === Event.STATS && e[1] === token, timeoutMs, from);
    return answer[2] as Record<string, unknown>;
  }

  /** The first event at index >= `from` matching `match` (an opcode or a predicate), waiting up to `timeoutMs`. */
  async next(match: number | ((event: WireEvent) => boolean), timeoutMs = 10_000, from = 0): Promise<WireEvent> {
    const found = await this.find(match, timeoutMs, from);
    if (found === undefined) {
      throw new Error(`no event matching ${String(match)} within ${timeoutMs} ms; events: ${this.describe()}; stderr: ${this.stderr.slice(-600)}`);
    }
    return found;
  }

  /** Like `next`, but resolves undefined on timeout or exit instead of throwing. */
  find(match: number | ((event: WireEvent) => boolean), timeoutMs = 10_000, from = 0): Promise<WireEvent | undefined> {
    const test = typeof match === 'number' ? (e: WireEvent) => e[0] === match : match;
    return this.waitUntil(() => this.events.slice(from).find(test), timeoutMs);
  }

  /** Every event at index >= `from` matching `match`. */
  all(match: number | ((event: WireEvent) => boolean), from = 0): WireEvent[] {
    const test = typeof match === 'number' ? (e: WireEvent) => e[0] === match : match;
    return this.events.slice(from).filter(test);
  }

  /** Waits until the sidecar has reported `count` client_connected events; undefined if it has not within `timeoutMs`. */
  waitUntilConnected(count: number, timeoutMs: number): Promise<true | undefined> {
    return this.waitUntil(() => (this.all(Event.CLIENT_CONNECTED).length >= count ? true : undefined), timeoutMs);
  }

  /** Waits until `probe` returns something other than undefined, the child exits, or time runs out. */
  waitUntil<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined || this.child.exitCode !== null || this.child.signalCode !== null) finish(value);
      };
      const finish = (value: T | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(probe()), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** A short readable list of the events so far, for failure messages. */
  describe(limit = 12): string {
    const shown = this.events.slice(-limit).map((e) => JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 160));
    return `${this.events.length} events, last: ${shown.join(' | ')}`;
  }

  /** Closes stdin (the sidecar exits within a second) and kills it if it does not. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdout!.resume();
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 1500);
    await this.exited;
    clearTimeout(timer);
  }

  private take(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + length) break;
      const body = this.pending.subarray(4, 4 + length);
      this.pending = this.pending.subarray(4 + length);
      try {
        const value: unknown = unpackr.unpack(body);
        if (Array.isArray(value) && typeof value[0] === 'number') {
          this.events.push(value as WireEvent);
          this.bodies.push(Buffer.from(body));
        } else this.garbage.push(body.toString('hex'));
      } catch (error) {
        this.garbage.push(`${(error as Error).message}: ${body.toString('hex').slice(0, 80)}`);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
