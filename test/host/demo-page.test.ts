/**
 * The demo's chat page in a real browser: headless Chromium loads it from the
 * demo's port, the page opens its WebSocket to the same address, sends a
 * message (`?say=`), and the DOM it ends with shows the welcome and the echo.
 * Skipped, saying how to install it, when Chromium is not on PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sidecar-locator.js';
import { until } from '../support/harness.js';

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((name) => spawnSync(name, ['--version']).status === 0);
const title = (name: string): string => (chromium ? name : `${name} (skipped: no chromium on PATH; apt-get install chromium)`);

const children: ReturnType<typeof spawn>[] = [];
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

    // --virtual-time-budget lets the page run (connect, send, receive) before the DOM is dumped.
    const browser = spawnSync(
      chromium!,
      ['--headless=new', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=5000', '--dump-dom', `${page}?say=hello%20from%20chromium`],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(browser.status, browser.stderr).toBe(0);
    const log = /<div id="log">(.*?)<\/div>\s*<form/s.exec(browser.stdout)?.[1] ?? browser.stdout;
    expect(log).toContain('<div>Welcome to the server!</div>');
    expect(log).toContain('<div>Echo: hello from chromium</div>');
    expect(browser.stdout).toMatch(/<span id="status">connected to ws:\/\/127\.0\.0\.1:\d+\/<\/span>/);
    await until(() => output.includes('Client disconnected'), 'the demo to see the page leave', 5_000, () => output);
  }, 90_000);
});
