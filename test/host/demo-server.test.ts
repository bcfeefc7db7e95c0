/** The main job's example server, run as a user runs it. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sidecar-command.js';
import { RecordingClient, until } from '../support/harness.js';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => children.forEach((child) => child.kill('SIGTERM')));

describe('demo server', () => {
  it('welcomes, echoes, and runs a room chat', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO_ROOT, 'host', 'demo-server.ts'), '--port', '0', '--host', '127.0.0.1', '--seconds', '20'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await until(() => /ws:\/\/127\.0\.0\.1:\d+/.test(output), 'the demo to print its address', 15_000);
    const url = /ws:\/\/127\.0\.0\.1:\d+/.exec(output)![0];
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
    expect(output).toContain('Client disconnected');
  });
});
