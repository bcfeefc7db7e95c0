/**
 * The built Linux sidecar executable, run the way players get it: with no
 * `node` anywhere on PATH. Skipped, saying how to build it, when it has not
 * been built.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost } from '../../host/sidecar-host.js';
import { outputBinary, platformByDir, SIDECAR_VERSION } from '../../packaging/config.js';
import { Event, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { unpackValue } from '../../protocol/msgpack.js';
import { pathWithoutNode } from '../support/path-without-node.js';

const binary = outputBinary(platformByDir('linux-x64'));
const built = process.platform === 'linux' && process.arch === 'x64' && existsSync(binary);
const title = (name: string): string => (built ? name : `${name} (skipped: ${binary} not built; run "npm run build:binaries")`);

const hosts: SidecarHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

describe('linux-x64 sidecar executable', () => {
  it.skipIf(!built)(title('answers with hello and exits on stdin EOF, with no node on PATH'), async () => {
    const env = { PATH: pathWithoutNode() };
    expect(env.PATH.split(delimiter).some((dir) => existsSync(join(dir, 'node')))).toBe(false);
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const decoder = new FrameDecoder();
    const frames: unknown[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk).map((f) => unpackValue(f))));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 10_000;
    while (frames.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(frames[0], `no hello; stderr: ${stderr}`).toEqual([Event.HELLO, PROTOCOL_VERSION, SIDECAR_VERSION, expect.any(Array)]);
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    expect(await exited).toBe(0);
    clearTimeout(timer);
    expect(stderr).not.toMatch(/ExperimentalWarning|single executable/i);
  });

  it.skipIf(!built)(title('serves a WebSocket client echo through the TypeScript host, with no node on PATH'), async () => {
    const host = await SidecarHost.launch({ command: { file: binary, args: [], kind: 'binary' }, env: { PATH: pathWithoutNode() } });
    hosts.push(host);
    expect(host.sidecarVersion).toBe(SIDECAR_VERSION);
    host.on('text', (id, text) => host.sendText(id, `echo: ${text}`));
    const listening = await host.start({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`ws://127.0.0.1:${listening.port}`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve(data.toString()));
      ws.once('error', reject);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('ping from a browser');
    expect(await reply).toBe('echo: ping from a browser');
    ws.close();
  });
});
