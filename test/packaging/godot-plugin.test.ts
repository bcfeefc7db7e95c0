/**
 * The editor plugin in a real Godot editor (headless): it enables without script errors, and on
 * an addon copy without binaries (what the Asset Library's commit ZIP installs) it offers to
 * download the editor platform's sidecar, or, when no release is pinned, says exactly what to
 * download and where to put it. The download itself, with its hash checks, is covered headless
 * by godot-addon/tests/test_downloader.gd against a local server.
 *
 * Needs GODOT_EDITOR (a Godot 4.4+ editor binary on Linux x86_64); skipped, and said so, without it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../host/sidecar-locator.js';

const editor = process.env.GODOT_EDITOR;
const addonDir = join(REPO_ROOT, 'godot-addon', 'addons', 'websocket_server');
const skipReason =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'the editor plugin check runs a Linux x86_64 editor binary'
    : editor === undefined || editor === ''
      ? 'set GODOT_EDITOR=/path/to/godot-editor (Godot 4.4+)'
      : undefined;
if (skipReason !== undefined) console.log(`Godot editor plugin test SKIPPED: ${skipReason}`);
const title = (name: string): string => (skipReason === undefined ? name : `${name} (skipped: ${skipReason})`);

/** Two editor runs per test, about 15 s each on a quiet machine. */
const TEST_TIMEOUT_MS = 240_000;
const work = skipReason === undefined ? mkdtempSync(join(tmpdir(), 'ws-plugin-')) : '';
afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** A project with the addon as committed (no bin/<platform>/, no bin/sidecar.cjs) and the plugin enabled. */
function makeProject(name: string, settings: string[] = []): string {
  const project = join(work, name);
  const addon = join(project, 'addons', 'websocket_server');
  cpSync(addonDir, addon, { recursive: true, filter: (src) => !/[\\/]bin[\\/](?!\.gdignore$)[^\\/]+$/.test(src) });
  writeFileSync(
    join(project, 'project.godot'),
    ['config_version=5', '', '[application]', '', 'config/name="Plugin Check"', 'config/features=PackedStringArray("4.4")', '',
      '[editor_plugins]', '', 'enabled=PackedStringArray("res://addons/websocket_server/plugin.cfg")', '', ...settings, ''].join('\n'),
  );
  return project;
}

/** Opens the project in the editor twice (the first run imports), returning the second run's output. */
function openInEditor(project: string): string {
  const home = join(project, '..', `home-${project.split(/[\\/]/).pop()}`);
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') };
  let output = '';
  for (let run = 0; run < 2; run++) {
    const result = spawnSync(editor!, ['--headless', '--editor', '--path', project, '--quit-after', '300'], { env, encoding: 'utf8', timeout: 120_000 });
    output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    if (result.error !== undefined || result.status !== 0) throw new Error(`the editor failed (${result.error?.message ?? result.status}):\n${output}`);
  }
  return output;
}

/** Error lines other than the font warnings of an editor built without fontconfig. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => /^(SCRIPT )?ERROR:/.test(line) && !line.includes('without fontconfig'));
}

describe('editor plugin, addon installed without binaries', { timeout: TEST_TIMEOUT_MS }, () => {
  it.skipIf(skipReason !== undefined)(title('with no release pinned: enables without script errors and says what to download and where to put it'), () => {
    const project = makeProject('unpinned');
    const output = openInEditor(project);
    const errors = errorLines(output);
    expect(errors, output).toHaveLength(1);
    expect(errors[0]).toBe(
      'ERROR: WebSocket Server: This copy of the WebSocket Server addon has no sidecar for linux-x64 (the Asset Library installs it without binaries), so WebSocketServer.start() would fail.',
    );
    expect(output).toContain(
      `No release is pinned in this copy of the addon; build it with \`npm run release\` or download the zip from the WebSocket Server addon's releases page and copy its addons/websocket_server/bin/linux-x64/ folder to ${join(project, 'addons', 'websocket_server', 'bin', 'linux-x64')}.`,
    );
  });

  it.skipIf(skipReason !== undefined)(title('with a pinned release and the repository set in the project settings: offers the download from that release'), () => {
    const project = makeProject('pinned', ['[websocket_server]', '', 'release_repository="someone/godot-websocket-server"']);
    const pinPath = join(project, 'addons', 'websocket_server', 'release.json');
    const pin = JSON.parse(readFileSync(pinPath, 'utf8')) as Record<string, unknown>;
    const file = { size: 29_200_000, sha256: 'a'.repeat(64) };
    pin.platforms = {
      'linux-x64': [
        { asset: 'websocket-sidecar-linux-x64.zst', file: 'websocket-sidecar.zst', ...file },
        { asset: 'websocket-sidecar-linux-x64.json', file: 'websocket-sidecar.json', size: 200, sha256: 'b'.repeat(64) },
      ],
    };
    writeFileSync(pinPath, JSON.stringify(pin));
    const output = openInEditor(project);
    expect(errorLines(output), output).toEqual([]);
    expect(output).toContain(
      `Download the WebSocket Server sidecar for linux-x64 (29.2 MB) from https://github.com/someone/godot-websocket-server/releases/download/v${String(pin.version)}/ ? Each file is checked against the SHA-256 pinned in release.json before it is used.`,
    );
  });

  it.skipIf(skipReason !== undefined)(title('with the sidecar present: enables silently'), () => {
    const project = makeProject('installed');
    const bin = join(project, 'addons', 'websocket_server', 'bin', 'linux-x64');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'websocket-sidecar.zst'), 'not opened by the plugin');
    writeFileSync(join(bin, 'websocket-sidecar.json'), '{}');
    const output = openInEditor(project);
    expect(errorLines(output), output).toEqual([]);
    expect(output).not.toContain('WebSocket Server:');
  });
});
