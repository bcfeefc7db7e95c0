/**
 * A real `redis-server` for one test file: started on a free loopback port with a temporary
 * directory and no persistence, stopped (and restarted on the same port, for outage tests)
 * on demand. Needs Debian's `redis-server` on PATH (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

export class RedisServer {
  readonly port: number;
  private readonly dir: string;
  private readonly extraArgs: string[];
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(port: number, extraArgs: string[]) {
    this.port = port;
    this.extraArgs = extraArgs;
    this.dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  }

  /** Starts a server on a free port; `extraArgs` are more redis-server flags (`--requirepass x`). */
  static async start(extraArgs: string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  /** The running process's id (for CPU accounting in bench/cluster.ts). */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)starts the process on the same port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.child !== undefined) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(this.output)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        this.child = undefined;
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}: ${this.output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the process (SIGKILL: no goodbye to clients, as a crash or a network cut). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }

  /** Stops the process and removes its directory; for afterAll. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
