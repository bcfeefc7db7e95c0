/**
 * Optional smoke run of the Windows executable under Debian's Wine
 * (`apt-get install wine wine64`): with stdin at EOF it must write the hello
 * frame and exit 0. Wine breaks Node's pipes, so stdio goes to files. The Wine
 * prefix lives in .cache/wine-prefix, set to report Windows 10 (Node refuses
 * Windows versions before 8.1, and a new prefix reports Windows 7).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, SIDECAR_VERSION, outputBinary, platformByDir } from '../../packaging/config.js';
import { Event, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { unpackValue } from '../../protocol/msgpack.js';

const binary = outputBinary(platformByDir('windows-x64'));
const hasWine = spawnSync('wine', ['--version'], { encoding: 'utf8' }).status === 0;
const ready = existsSync(binary) && hasWine;
const why = !existsSync(binary) ? `${binary} not built; run "npm run build:binaries"` : 'wine not installed; apt-get install wine wine64';
const prefix = join(REPO_ROOT, '.cache', 'wine-prefix');

describe('windows-x64 executable under Wine', () => {
  it.skipIf(!ready)(ready ? 'writes hello and exits on stdin EOF' : `writes hello and exits on stdin EOF (skipped: ${why})`, () => {
    const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' };
    if (!existsSync(join(prefix, 'system.reg'))) {
      const setup = spawnSync('wine', ['winecfg', '/v', 'win10'], { env, timeout: 120_000 });
      expect(setup.status, `creating the Wine prefix failed: ${setup.stderr}`).toBe(0);
    }
    const dir = mkdtempSync(join(tmpdir(), 'wine-smoke-'));
    try {
      const stdin = openSync('/dev/null', 'r');
      const stdout = openSync(join(dir, 'out.bin'), 'w');
      const stderr = openSync(join(dir, 'err.txt'), 'w');
      const run = spawnSync('wine', [binary], { env, stdio: [stdin, stdout, stderr], timeout: 60_000 });
      [stdin, stdout, stderr].forEach(closeSync);
      const err = readFileSync(join(dir, 'err.txt'), 'utf8');
      expect(run.status, `wine exited ${run.status}; stderr: ${err}`).toBe(0);
      const frames = new FrameDecoder().push(readFileSync(join(dir, 'out.bin')));
      expect(unpackValue(frames[0]!)).toEqual([Event.HELLO, PROTOCOL_VERSION, SIDECAR_VERSION, expect.any(Array)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
