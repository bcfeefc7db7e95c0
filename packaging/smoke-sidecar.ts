/**
 * Smoke-runs this machine's sidecar from an unzipped release, the way the
 * addon would: decompress `bin/<platform>/websocket-sidecar[.exe].zst`,
 * check its size and SHA-256 against the manifest, run it, expect `hello`
 * with the right protocol version, start it on a loopback port and have one
 * WebSocket client's message echoed through the TypeScript host.
 * `.github/workflows/release.yml` runs it on Windows and macOS runners,
 * where this repository cannot test (no such machines here).
 *
 * Usage: tsx packaging/smoke-sidecar.ts <unzipped release>/addons/websocket_server
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import { SidecarHost } from '../host/sidecar-host.js';
import { platformDir } from '../host/sidecar-locator.js';
import type { Manifest } from './compress.js';

/** Node 22.15+ decompresses zstd itself; older ones fall back to the `zstd` tool. */
function unzstd(file: string): Buffer {
  const native = (zlib as unknown as { zstdDecompressSync?: (data: Buffer) => Buffer }).zstdDecompressSync;
  if (native) return native(readFileSync(file));
  const result = spawnSync('zstd', ['-d', '-c', file], { maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`cannot decompress ${file}: use Node 22.15+ or install zstd (${result.error?.message ?? result.stderr})`);
  return result.stdout;
}

/** Extracts and verifies the sidecar for this machine; returns the executable's path. */
function extract(addonDir: string): string {
  const dir = join(addonDir, 'bin', platformDir());
  const manifest = JSON.parse(readFileSync(join(dir, 'websocket-sidecar.json'), 'utf8')) as Manifest;
  const raw = unzstd(join(dir, `${manifest.file}.zst`));
  const sha256 = createHash('sha256').update(raw).digest('hex');
  if (raw.length !== manifest.size || sha256 !== manifest.sha256) {
    throw new Error(`${dir}: the .zst gives ${raw.length} bytes with SHA-256 ${sha256}; the manifest says ${manifest.size} and ${manifest.sha256}`);
  }
  const executable = join(mkdtempSync(join(tmpdir(), 'sidecar-smoke-')), manifest.file);
  writeFileSync(executable, raw);
  chmodSync(executable, 0o755);
  console.log(`${platformDir()}: ${manifest.file} ${manifest.version}, ${raw.length} bytes, SHA-256 verified -> ${executable}`);
  return executable;
}

async function smoke(addonDir: string): Promise<void> {
  const file = extract(addonDir);
  const started = Date.now();
  const host = await SidecarHost.launch({ command: { file, args: [], kind: 'binary' }, helloTimeoutMs: 30_000 });
  console.log(`hello after ${Date.now() - started} ms: sidecar ${host.sidecarVersion}`);
  try {
    host.on('text', (id, text) => host.sendText(id, `echo: ${text}`));
    const { port } = await host.start({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.on('message', (data) => resolve(data.toString()));
      ws.once('error', reject);
      setTimeout(() => reject(new Error('no echo within 10 s')), 10_000).unref();
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send('smoke');
    const answer = await reply;
    if (answer !== 'echo: smoke') throw new Error(`expected "echo: smoke", got ${JSON.stringify(answer)}`);
    ws.close();
    console.log(`served one WebSocket client on port ${port}: echo OK`);
  } finally {
    const code = await host.close();
    console.log(`sidecar exited with code ${code}`);
    // About 100 MB; Windows may hold a just-exited executable for a moment, hence the retries.
    rmSync(dirname(file), { recursive: true, force: true, maxRetries: 5 });
  }
}

const addonDir = process.argv[2];
if (addonDir === undefined) {
  console.error('usage: tsx packaging/smoke-sidecar.ts <unzipped release>/addons/websocket_server');
  process.exit(2);
}
smoke(addonDir).catch((error: Error) => {
  console.error(`smoke test failed: ${error.message}`);
  process.exit(1);
});
