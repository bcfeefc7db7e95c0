/** The main job's example server, run as a user runs it. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sidecar-locator.js';
import { RecordingClient, until } from '../support/harness.js';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => children.forEach((child) => child.kill('SIGTERM')));

/** Runs `npm run demo`'s script; `godot` decides which host it runs (the TypeScript one without). */
function startDemo(godot: string | undefined): { child: ReturnType<typeof spawn>; output: () => string } {
  const env = { ...process.env };
  delete env.GODOT;
  if (godot !== undefined) env.GODOT = godot;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, 'host', 'demo-server.ts'), '--port', '0', '--host', '127.0.0.1', '--seconds', '20'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

describe('demo server', () => {
  it('welcomes, echoes, and runs a room chat', async () => {
    const { child, output } = startDemo(undefined);
    await until(() => /ws:\/\/127\.0\.0\.1:\d+/.test(output()), 'the demo to print its address', 15_000);
    const url = /ws:\/\/127\.0\.0\.1:\d+/.exec(output())![0];
    const a = await new RecordingClient(url).opened();
    const b = await new RecordingClient(url).opened();
    await until(() => a.texts.length === 1 && b.texts.length === 1, 'the welcomes');
    expect(a.texts[0]).toBe('Welcome to the server!');
    a.ws.send('hello');
    await until(() => a.texts.includes('Echo: hello'), 'the echo');
    a.ws.send('/join lobby');
    b.ws.send('/join lobby');
    await until(() => a.texts.some((t) => t.endsWith('joined lobby') && t.startsWith('client 2')), 'the second join');
    b.ws.send('/say lobby hi');
    await until(() => a.texts.some((t) => t.endsWith(': hi')), 'the room message');
    a.ws.close();
    b.ws.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(output()).toContain('Client disconnected');
  });

  // With GODOT set, `npm run demo` runs the addon's Quick Start scene (which listens on 8080) instead.
  it.skipIf(!process.env.GODOT)('runs the Godot Quick Start when GODOT points at an engine', async () => {
    const { child, output } = startDemo(process.env.GODOT);
    await until(() => output().includes('WebSocket server started on port 8080'), 'the Quick Start to listen', 20_000);
    const client = await new RecordingClient('ws://127.0.0.1:8080').opened();
    await until(() => client.texts.length === 1, 'the welcome');
    expect(client.texts[0]).toBe('Welcome to the server!');
    client.ws.send('hi');
    await until(() => client.texts.includes('Echo: hi'), 'the echo');
    client.ws.close(4001);
    await until(() => output().includes('Client disconnected: 1 with code: 4001'), 'the Quick Start to report the close');
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }, 40_000);
});
