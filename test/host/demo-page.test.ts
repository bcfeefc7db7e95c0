/**
 * The demo's chat page in a real browser: headless Chromium loads it from the
 * demo's port, the page opens its WebSocket to the same address, sends a
 * message (`?say=`), and its chat log shows the welcome and the echo.
 * Skipped, saying how to install it, when Chromium is not on PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sidecar-locator.js';
import { until } from '../support/harness.js';

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((name) => spawnSync(name, ['--version']).status === 0);
const title = (name: string): string => (chromium ? name : `${name} (skipped: no chromium on PATH; apt-get install chromium)`);

const children: ReturnType<typeof spawn>[] = [];

/**
 * Opens `url` in headless Chromium and polls the page's chat log over the
 * DevTools protocol until `done` holds (or 20 s pass); returns the log's text.
 * Polling real time, not --virtual-time-budget, which may dump the page
 * before a slow server's answer arrives.
 */
async function pageLogInChromium(url: string, done: (log: string) => boolean): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'demo-page-chromium-'));
  const browser = spawn(chromium!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(browser);
  try {
    let stderr = '';
    browser.stderr!.on('data', (chunk) => (stderr += chunk));
    await until(() => /DevTools listening on (ws:\S+)/.test(stderr), 'Chromium to open its DevTools port', 20_000, () => stderr);
    const devtools = new WebSocket(/DevTools listening on (ws:\S+)/.exec(stderr)![1]!);
    await new Promise((resolve, reject) => devtools.once('open', resolve).once('error', reject));
    let nextId = 0;
    const call = (method: string, params: object, sessionId?: string): Promise<Record<string, any>> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const onMessage = (data: WebSocket.RawData): void => {
          const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, any>; error?: { message: string } };
          if (message.id !== id) return;
          devtools.off('message', onMessage);
          if (message.error) reject(new Error(`${method}: ${message.error.message}`));
          else resolve(message.result ?? {});
        };
        devtools.on('message', onMessage);
        devtools.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    const { targetId } = await call('Target.createTarget', { url });
    const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
    let log = '';
    const deadline = Date.now() + 20_000;
    while (!done(log) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { result } = await call('Runtime.evaluate', { expression: "document.getElementById('log')?.innerText ?? ''" }, sessionId);
      log = String(result?.value ?? '');
    }
    devtools.close();
    return log;
  } finally {
    browser.kill('SIGKILL');
    await new Promise((resolve) => (browser.exitCode === null ? browser.once('exit', resolve) : resolve(null)));
    rmSync(profile, { recursive: true, force: true });
  }
}
afterEach(() => children.splice(0).forEach((child) => child.kill('SIGTERM')));

describe('demo chat page', () => {
  it.skipIf(!chromium)(title('connects from headless Chromium and a message round-trips'), async () => {
    const env = { ...process.env };
    delete env.GODOT;
    const demo = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'host', 'demo-server.ts'), '--port', '0', '--host', '127.0.0.1', '--seconds', '60'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(demo);
    let output = '';
    demo.stdout!.on('data', (chunk) => (output += chunk));
    demo.stderr!.on('data', (chunk) => (output += chunk));
    await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(output), 'the demo to print its page address', 15_000, () => output);
    const page = /http:\/\/127\.0\.0\.1:\d+\//.exec(output)![0];

    const log = await pageLogInChromium(`${page}?say=hello%20from%20chromium`, (text) => text.includes('Echo: hello from chromium'));
    expect(log).toContain('Welcome to the server!');
    expect(log).toContain('Echo: hello from chromium');
    await until(() => output.includes('Client disconnected'), 'the demo to see the page leave', 5_000, () => output);
  }, 90_000);
});
