/**
 * A headless Chromium for tests that need a real browser: it is launched with a DevTools port,
 * and `evaluate` runs an async expression in a blank page over the DevTools protocol (through
 * `ws`) and returns its JSON value. `findChromium` says where the browser is, or undefined.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to run: `CHROMIUM` when set, else the first of the usual paths that exists. */
export function findChromium(): string | undefined {
  const named = process.env.CHROMIUM;
  if (named !== undefined && named !== '') return existsSync(named) ? named : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

export class HeadlessChromium {
  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
    private readonly page: WebSocket,
  ) {}

  /** Launches the browser on a blank page and connects to that page; fails after `timeoutMs`. */
  static async launch(executable: string, timeoutMs = 20_000): Promise<HeadlessChromium> {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    const child = spawn(
      executable,
      ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      const port = await devToolsPort(child, timeoutMs);
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      const target = targets.find((t) => t.type === 'page');
      if (target === undefined) throw new Error('Chromium opened no page');
      const page = new WebSocket(target.webSocketDebuggerUrl);
      await new Promise((resolve, reject) => page.once('open', resolve).once('error', reject));
      return new HeadlessChromium(child, profile, page);
    } catch (error) {
      child.kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }

  /** Runs `expression` (a promise-valued JavaScript expression) in the page; resolves with its value. */
  evaluate<T>(expression: string, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the page did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.page.once('message', (data: Buffer) => {
        clearTimeout(timer);
        const reply = JSON.parse(data.toString()) as {
          result?: { result?: { value?: T }; exceptionDetails?: { exception?: { description?: string } } };
          error?: { message: string };
        };
        const thrown = reply.result?.exceptionDetails;
        if (reply.error !== undefined) reject(new Error(reply.error.message));
        else if (thrown !== undefined) reject(new Error(thrown.exception?.description ?? 'the page threw'));
        else resolve(reply.result?.result?.value as T);
      });
      this.page.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }));
    });
  }

  /** Ends the browser and removes its profile. */
  async close(): Promise<void> {
    this.page.close();
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** The port of the "DevTools listening on ws://127.0.0.1:<port>/..." line Chromium prints on stderr. */
function devToolsPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`Chromium announced no DevTools port within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited with ${code} before it listened:\n${seen}`));
    });
  });
}
