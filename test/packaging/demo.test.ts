/**
 * `npm run demo` as a user runs it: it builds what it needs, serves the chat
 * page and WebSocket clients on one port, and a SIGTERM or SIGINT sent to the
 * npm process alone (what `timeout`, IDE stop buttons and process managers
 * send) ends npm, the demo and the sidecar within 1 s and frees the port.
 *
 * It builds into the working tree (bundle and, on linux-x64, the raw
 * executable), so test/run-all.sh runs this file alone, after the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { REPO_ROOT } from '../../host/sidecar-locator.js';
import { until } from '../support/harness.js';

const STOP_WITHIN_MS = 1000;

const started: ChildProcess[] = [];
afterEach(() => {
  // A failed case must not leave a demo behind: npm runs in its own process group.
  for (const child of started.splice(0)) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A process that still runs (a zombie has already let go of everything). */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant of `root`, read from /proc. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // Gone between readdir and read.
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, parent] of parentOf) if (parent === pid) found.push(child), walk(child);
  };
  walk(root);
  return found;
}

function startDemo(port: number): { npm: ChildProcess; output: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  delete env.GODOT; // with GODOT set the demo runs Godot's Quick Start on 8080 instead
  const npm = spawn('npm', ['run', 'demo', '--', '--host', '127.0.0.1'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(npm);
  let output = '';
  npm.stdout!.on('data', (chunk) => (output += chunk));
  npm.stderr!.on('data', (chunk) => (output += chunk));
  return { npm, output: () => output };
}

/** Starts the demo, then sends `signal` to the npm process alone and checks everything is gone within 1 s. */
async function stopsOn(signal: NodeJS.Signals, whileServing: (port: number) => Promise<void>): Promise<void> {
  const port = await freePort();
  const { npm, output } = startDemo(port);
  // The first run on a machine downloads a Node binary (about 30 MB) and injects it.
  await until(() => output().includes(`http://127.0.0.1:${port}/`) || npm.exitCode !== null, 'the demo to serve', 150_000, output);
  expect(npm.exitCode, output()).toBeNull();
  const processes = descendants(npm.pid!);
  expect(processes.length, 'the demo node and the sidecar under npm').toBeGreaterThanOrEqual(2);
  await whileServing(port);

  const exited = new Promise<number>((resolve) => npm.once('exit', () => resolve(Date.now())));
  const sentAt = Date.now();
  process.kill(npm.pid!, signal);
  const deadline = sentAt + STOP_WITHIN_MS;
  const exitedAt = await Promise.race([exited, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), STOP_WITHIN_MS + 2000))]);
  expect(exitedAt - sentAt, `npm exits within ${STOP_WITHIN_MS} ms of ${signal}; output:\n${output()}`).toBeLessThanOrEqual(STOP_WITHIN_MS);
  while (Date.now() < deadline && (processes.some(alive) || !(await portIsFree(port)))) await new Promise((r) => setTimeout(r, 20));
  expect(processes.filter(alive), `processes left ${Date.now() - sentAt} ms after ${signal}`).toEqual([]);
  expect(await portIsFree(port), `port ${port} is free`).toBe(true);
  // 'exit' can come before the last output is read; 'close' comes after it.
  if (npm.stdout!.readable) await new Promise((resolve) => npm.once('close', resolve));
  expect(output()).toContain(`stopping (${signal})`);
}

describe('npm run demo', () => {
  it('serves the chat page and a WebSocket client on one port, and SIGTERM to npm ends everything within 1 s', async () => {
    let client: WebSocket | undefined;
    await stopsOn('SIGTERM', async (port) => {
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).toContain('new WebSocket(');
      expect(html).toContain("'ws://'");
      client = new WebSocket(`ws://127.0.0.1:${port}/`);
      const texts: string[] = [];
      client.on('message', (data) => texts.push(data.toString()));
      await new Promise((resolve, reject) => client!.once('open', resolve).once('error', reject));
      client.send('hello');
      await until(() => texts.includes('Echo: hello'), 'the echo through the front port');
      expect(texts[0]).toBe('Welcome to the server!');
    });
    // An open client does not hold the demo up.
    expect(client?.readyState).not.toBe(WebSocket.OPEN);
  }, 200_000);

  it('SIGINT to the npm process alone (not its group) ends everything within 1 s', async () => {
    await stopsOn('SIGINT', async () => {});
  }, 200_000);
});
