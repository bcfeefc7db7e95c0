/**
 * The addon's editor side, end to end: a project with the plugin enabled is imported and
 * exported for Linux by a real Godot editor, and the exported game runs the seed's Quick Start.
 * The export must carry this platform's compressed sidecar and nothing else of bin/; the game
 * must extract it to user:// (or, with `websocket_server/ship_raw_binary`, run the raw
 * executable the export put next to the game, decompressed at export when the addon came from
 * the release zip) and serve WebSocket clients with no Node.js.
 *
 * Needs GODOT_EDITOR (a Godot 4.4+ editor binary) and export templates: either installed for
 * that editor's version, or GODOT_TEMPLATE pointing at a Linux x86_64 debug template. Skipped,
 * and said so, without them. Port 8080 must be free (the Quick Start listens there).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stopProcess } from '../../bench/stop-process.js';
import { REPO_ROOT } from '../../host/sidecar-locator.js';
import { until } from '../support/harness.js';
import { pathWithoutNode } from '../support/path-without-node.js';

const editor = process.env.GODOT_EDITOR;
const template = process.env.GODOT_TEMPLATE;
const addonDir = join(REPO_ROOT, 'godot-addon', 'addons', 'websocket_server');
const linuxBin = join(addonDir, 'bin', 'linux-x64');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const sidecarBuilt = existsSync(join(linuxBin, 'websocket-sidecar.zst')) && existsSync(join(linuxBin, 'websocket-sidecar.json'));

const skipReason = !onLinuxX64
  ? 'it exports for Linux x86_64 and runs the result, so it needs a Linux x86_64 machine'
  : editor === undefined || editor === ''
    ? 'set GODOT_EDITOR=/path/to/godot-editor (and GODOT_TEMPLATE=/path/to/linux-debug-template unless templates are installed)'
    : !sidecarBuilt
      ? `the linux-x64 sidecar is not built in ${linuxBin}: run "npm run build:binaries -- --only=linux-x64"`
      : undefined;
if (skipReason !== undefined) console.log(`Godot export test SKIPPED: ${skipReason}`);

const EDITOR_TIMEOUT_MS = 240_000;
const PORT = 8080;
const work = skipReason === undefined ? mkdtempSync(join(tmpdir(), 'ws-export-')) : '';
const games: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(games.splice(0).map((game) => stopProcess(game, 5000)));
});
afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** A project holding the addon (every platform's bin/ as shipped) and the seed's Quick Start scene. */
function makeProject(name: string, shipRaw: boolean, asFromReleaseZip = false): string {
  const project = join(work, name);
  mkdirSync(join(project, 'addons'), { recursive: true });
  // The release zip ships only the compressed sidecars: no raw executable, no JavaScript build.
  const inReleaseZip = (src: string): boolean => !/[\\/]bin[\\/](sidecar\.cjs|[^\\/]+[\\/]websocket-sidecar(\.exe)?)$/.test(src);
  cpSync(addonDir, join(project, 'addons', 'websocket_server'), { recursive: true, filter: asFromReleaseZip ? inReleaseZip : undefined });
  for (const file of ['quick_start.gd', 'quick_start.tscn']) {
    cpSync(join(REPO_ROOT, 'godot-addon', 'examples', file), join(project, file));
  }
  const scene = readFileSync(join(project, 'quick_start.tscn'), 'utf8').replaceAll('res://examples/', 'res://');
  writeFileSync(join(project, 'quick_start.tscn'), scene);
  writeFileSync(
    join(project, 'project.godot'),
    [
      'config_version=5',
      '',
      '[application]',
      '',
      'config/name="Export Check"',
      'run/main_scene="res://quick_start.tscn"',
      'config/features=PackedStringArray("4.4")',
      '',
      '[editor_plugins]',
      '',
      'enabled=PackedStringArray("res://addons/websocket_server/plugin.cfg")',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(project, 'export_presets.cfg'),
    [
      '[preset.0]',
      '',
      'name="Linux"',
      'platform="Linux"',
      'runnable=true',
      'dedicated_server=false',
      'custom_features=""',
      'export_filter="all_resources"',
      'include_filter=""',
      'exclude_filter=""',
      'export_path="out/game.x86_64"',
      'encryption_include_filters=""',
      'encryption_exclude_filters=""',
      'encrypt_pck=false',
      'encrypt_directory=false',
      '',
      '[preset.0.options]',
      '',
      `custom_template/debug=${JSON.stringify(template ?? '')}`,
      'custom_template/release=""',
      'debug/export_console_wrapper=0',
      'binary_format/embed_pck=false',
      'binary_format/architecture="x86_64"',
      `websocket_server/ship_raw_binary=${shipRaw}`,
      '',
    ].join('\n'),
  );
  return project;
}

/** Runs the editor headless; returns its output, failing the test with that output on a non-zero exit. */
function runEditor(project: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(editor!, ['--headless', '--path', project, ...args], { env, encoding: 'utf8', timeout: EDITOR_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error !== undefined) throw new Error(`${editor} ${args.join(' ')} failed: ${result.error.message}\n${output}`);
  if (result.status !== 0) throw new Error(`${editor} ${args.join(' ')} exited with ${result.status}:\n${output}`);
  return output;
}

/** HOME and XDG folders of its own, so user:// starts empty and nothing touches the real home. */
function isolatedEnv(name: string): NodeJS.ProcessEnv {
  const home = join(work, `home-${name}`);
  mkdirSync(home, { recursive: true });
  return {
    ...process.env,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
  };
}

function exportProject(shipRaw: boolean, asFromReleaseZip = false): { project: string; out: string } {
  const name = `${shipRaw ? 'raw' : 'packed'}${asFromReleaseZip ? '-zip' : ''}`;
  const project = makeProject(`project-${name}`, shipRaw, asFromReleaseZip);
  const env = isolatedEnv(`editor-${name}`);
  mkdirSync(join(project, 'out'));
  runEditor(project, ['--import'], env);
  const output = runEditor(project, ['--export-debug', 'Linux', join(project, 'out', 'game.x86_64')], env);
  expect(output).not.toContain('WebSocketServer export:');
  return { project, out: join(project, 'out') };
}

/** Whether the pack's bytes hold `text`: its directory stores every path as a plain string. */
function packMentions(pck: Buffer, text: string): boolean {
  return pck.includes(Buffer.from(text));
}

/** Runs `file` with `args` as a player would: no node on PATH. */
function startGame(file: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(file, args, { cwd: work, env: { ...env, PATH: pathWithoutNode() } });
  games.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

/** Connects, expects the Quick Start's welcome, and checks one text echo. */
async function talkToQuickStart(): Promise<string[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}`);
  const received: string[] = [];
  ws.on('message', (data) => received.push(data.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await until(() => received.length >= 1, 'the welcome', 5000, () => received.join('\n'));
  ws.send('hello from the export test');
  await until(() => received.length >= 2, 'the echo', 5000, () => received.join('\n'));
  ws.close();
  return received;
}

/** Waits up to 5 s for the port: a game's sidecar leaves within a second of the game. */
async function expectPortFreed(why: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let free = await portIsFree(PORT);
  while (!free && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    free = await portIsFree(PORT);
  }
  expect(free, why).toBe(true);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** Files below `dir`, as paths relative to it. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

describe.skipIf(skipReason !== undefined)('Godot editor and export with the addon', () => {
  it('runs the Quick Start from the project folder with the editor binary, as Play does, using the addon\'s raw binary', async () => {
    await expectPortFreed(`port ${PORT} is taken: the Quick Start needs it`);
    const project = makeProject('project-play', false);
    const env = isolatedEnv('play');
    runEditor(project, ['--import'], env);
    // The editor's Play runs the same binary on the project folder (plus debugger flags).
    const game = startGame(editor!, ['--headless', '--path', project], env);
    await until(() => game.output().includes('WebSocket server started on port 8080'), 'the Quick Start start()', 30_000, game.output);
    expect(await talkToQuickStart()).toEqual(['Welcome to the server!', 'Echo: hello from the export test']);
    // res:// is a real folder here: the raw executable in bin/linux-x64 runs, nothing is extracted.
    const userDir = join(env.XDG_DATA_HOME!, 'godot', 'app_userdata', 'Export Check', 'websocket_server');
    expect(listFiles(userDir)).toEqual([]);
  }, 600_000);

  it('packs only this platform\'s compressed sidecar, and the exported game extracts it and serves clients', async () => {
    await expectPortFreed(`port ${PORT} is taken: the Quick Start needs it`);
    const { out } = exportProject(false);
    expect(listFiles(out).sort()).toEqual(['game.pck', 'game.x86_64']);
    const pck = readFileSync(join(out, 'game.pck'));
    expect(packMentions(pck, 'websocket_server/bin/linux-x64/websocket-sidecar.zst')).toBe(true);
    expect(packMentions(pck, 'websocket_server/bin/linux-x64/websocket-sidecar.json')).toBe(true);
    // Not the raw executable (the pack is smaller than it alone), no other platform, not the JavaScript build.
    expect(pck.length).toBeLessThan(statSync(join(linuxBin, 'websocket-sidecar')).size);
    for (const other of ['windows-x64', 'macos-x64', 'macos-arm64', 'sidecar.cjs']) {
      expect(packMentions(pck, `websocket_server/bin/${other}`), other).toBe(false);
    }

    const env = isolatedEnv('game');
    const game = startGame(join(out, 'game.x86_64'), ['--headless'], env);
    await until(() => game.output().includes('WebSocket server started on port 8080'), 'the Quick Start start()', 30_000, game.output);
    const received = await talkToQuickStart();
    expect(received).toEqual(['Welcome to the server!', 'Echo: hello from the export test']);
    await until(() => game.output().includes('Text from client'), 'the message signal', 5000, game.output);

    // The sidecar was extracted once, to user://, and is what runs.
    const userDir = join(env.XDG_DATA_HOME!, 'godot', 'app_userdata', 'Export Check', 'websocket_server');
    const extracted = listFiles(userDir);
    expect(extracted.some((f) => f.endsWith('websocket-sidecar')), `files in ${userDir}: ${extracted.join(', ')}`).toBe(true);

    await stopProcess(game.child, 5000);
    await expectPortFreed('port 8080 still taken 5 s after the game exited: the sidecar outlived it');
  }, 600_000);

  it('with ship_raw_binary, puts the executable next to the game and runs it from there', async () => {
    await expectPortFreed(`port ${PORT} is taken: the Quick Start needs it`);
    const { out } = exportProject(true);
    const raw = join(out, 'websocket-sidecar');
    expect(existsSync(raw), `files in ${out}: ${listFiles(out).join(', ')}`).toBe(true);
    const env = isolatedEnv('game-raw');
    const game = startGame(join(out, 'game.x86_64'), ['--headless'], env);
    await until(() => game.output().includes('WebSocket server started on port 8080'), 'the Quick Start start()', 30_000, game.output);
    expect(await talkToQuickStart()).toEqual(['Welcome to the server!', 'Echo: hello from the export test']);
    const userDir = join(env.XDG_DATA_HOME!, 'godot', 'app_userdata', 'Export Check', 'websocket_server');
    expect(listFiles(userDir), 'nothing is extracted when the raw executable ships').toEqual([]);
    // Whatever mode the export copied it with, the game left it executable.
    expect(statSync(raw).mode & 0o111).not.toBe(0);
  }, 600_000);

  it('with ship_raw_binary on an addon installed from the release zip (.zst only), decompresses the sidecar at export', async () => {
    await expectPortFreed(`port ${PORT} is taken: the Quick Start needs it`);
    const { project, out } = exportProject(true, true);
    expect(existsSync(join(project, 'addons', 'websocket_server', 'bin', 'linux-x64', 'websocket-sidecar')), 'the copy has no raw executable').toBe(false);
    const raw = join(out, 'websocket-sidecar');
    expect(existsSync(raw), `files in ${out}: ${listFiles(out).join(', ')}`).toBe(true);
    expect(readFileSync(raw).equals(readFileSync(join(linuxBin, 'websocket-sidecar'))), 'the decompressed executable is the built one').toBe(true);
    const env = isolatedEnv('game-raw-zip');
    const game = startGame(join(out, 'game.x86_64'), ['--headless'], env);
    await until(() => game.output().includes('WebSocket server started on port 8080'), 'the Quick Start start()', 30_000, game.output);
    expect(await talkToQuickStart()).toEqual(['Welcome to the server!', 'Echo: hello from the export test']);
    const userDir = join(env.XDG_DATA_HOME!, 'godot', 'app_userdata', 'Export Check', 'websocket_server');
    expect(listFiles(userDir), 'the game runs the executable next to it and extracts nothing').toEqual([]);
  }, 600_000);
});
