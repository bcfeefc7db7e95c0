/**
 * The seed target's project assembly: if the extension were mounted anywhere but where its
 * `.gdextension` expects it, or left out of extension_list.cfg, the template engine would run
 * the bench without the seed's class and every seed figure would be a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, prepareSeedProject, resolveSeedExtension } from '../../bench/seed-project.js';

const BENCH_GODOT = resolve(import.meta.dirname, '../../bench/godot');
const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fake seed build: the seed's own .gdextension text and an empty library where it points. */
function fakeSeed(libraryLine = 'linux.debug.x86_64 = "res://addons/websocket_server/bin/libwebsocket_server.linux.template_release.x86_64.so"'): string {
  const dir = mkdtempSync(join(tmpdir(), 'seed-ext-test-'));
  made.push(dir);
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'libwebsocket_server.linux.template_release.x86_64.so'), '');
  writeFileSync(join(dir, 'websocket_server.gdextension'), `[configuration]\n\nentry_symbol = "websocket_server_library_init"\n\n[libraries]\n\n${libraryLine}\n`);
  return dir;
}

describe('resolveSeedExtension', () => {
  it('is undefined when SEED_GDEXT is unset, empty or names nothing', () => {
    expect(resolveSeedExtension(undefined)).toBeUndefined();
    expect(resolveSeedExtension('')).toBeUndefined();
    expect(resolveSeedExtension(join(tmpdir(), 'no-such-seed-build'))).toBeUndefined();
  });

  it('finds the .gdextension file in a folder and the mount path its library paths expect', () => {
    const dir = fakeSeed();
    expect(resolveSeedExtension(dir)).toEqual({ file: join(dir, 'websocket_server.gdextension'), folder: dir, mountPath: 'res://addons/websocket_server' });
  });

  it('takes the .gdextension file itself as well', () => {
    const dir = fakeSeed();
    expect(resolveSeedExtension(join(dir, 'websocket_server.gdextension'))?.mountPath).toBe('res://addons/websocket_server');
  });

  it('refuses a folder without exactly one .gdextension file', () => {
    const dir = fakeSeed();
    rmSync(join(dir, 'websocket_server.gdextension'));
    expect(() => resolveSeedExtension(dir)).toThrow('expected one .gdextension file');
  });

  it('refuses an extension whose Linux library is missing or not named', () => {
    const dir = fakeSeed();
    rmSync(join(dir, 'bin', 'libwebsocket_server.linux.template_release.x86_64.so'));
    expect(() => resolveSeedExtension(dir)).toThrow('is not below');
    expect(() => resolveSeedExtension(fakeSeed('windows.debug.x86_64 = "res://x.dll"'))).toThrow('names no library for linux.debug.x86_64');
  });
});

describe('prepareSeedProject', () => {
  it('mounts the extension where its library paths point and lists it for the template engine', () => {
    const seed = resolveSeedExtension(fakeSeed())!;
    const project = prepareSeedProject(BENCH_GODOT, seed);
    made.push(project);
    expect(readFileSync(join(project, '.godot', 'extension_list.cfg'), 'utf8')).toBe('res://addons/websocket_server/websocket_server.gdextension\n');
    expect(realpathSync(join(project, 'addons', 'websocket_server'))).toBe(realpathSync(seed.folder));
    expect(existsSync(join(project, 'addons', 'websocket_server', 'bin', 'libwebsocket_server.linux.template_release.x86_64.so'))).toBe(true);
    expect(readFileSync(join(project, 'main.gd'), 'utf8')).toBe(readFileSync(join(BENCH_GODOT, 'main.gd'), 'utf8'));
    expect(readFileSync(join(project, '.godot', 'global_script_class_cache.cfg'), 'utf8')).toBe('list=[]\n');
  });
});

describe('freePort', () => {
  it('returns a loopback port that can be listened on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
    await new Promise((ok) => server.close(ok));
  });
});
