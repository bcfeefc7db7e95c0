/**
 * The release zip: what the Asset Library takes (addon, README, LICENSE,
 * examples, bin/.gdignore, every platform compressed, no raw binaries),
 * within 120 MB; and the README it carries, rendered from the addon's own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderAddonReadme } from '../../packaging/addon-readme.js';
import { PLATFORMS, RELEASE_ZIP } from '../../packaging/config.js';
import { MAX_ZIP_BYTES } from '../../packaging/zip.js';

const built = existsSync(RELEASE_ZIP);
const title = (name: string): string => (built ? name : `${name} (skipped: ${RELEASE_ZIP} not built; run "npm run release")`);
const ADDON = 'addons/websocket_server';

function unzip(...args: string[]): string {
  const result = spawnSync('unzip', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('addon README for the zip', () => {
  it('states the version, Godot 4.4, the desktop platforms and the download size, then the addon README without its test section', () => {
    const readme = renderAddonReadme(110_400_000);
    expect(readme).toMatch(/^# WebSocket Server for Godot 4 \(addon\)\n\nRelease \d+\.\d+\.\d+\./);
    expect(readme).toContain('Godot 4.4 or newer');
    expect(readme).toMatch(/Desktop only: \*\*Linux \(x64\), Windows \(x64\) and macOS/);
    expect(readme).toContain('about 110.4 MB');
    for (const section of ['## Install', '## Quick Start', '## API reference']) expect(readme).toContain(section);
    expect(readme).not.toContain('## Tests and checks');
  });
});

describe('release zip', () => {
  it.skipIf(!built)(title('holds the addon with README, LICENSE, bin/.gdignore and every platform compressed, the examples, and no raw binaries'), () => {
    expect(statSync(RELEASE_ZIP).size).toBeLessThanOrEqual(MAX_ZIP_BYTES);
    const files = unzip('-Z1', RELEASE_ZIP)
      .split('\n')
      .filter((l) => l !== '' && !l.endsWith('/'));
    expect(files.every((f) => f.startsWith(`${ADDON}/`) || f.startsWith('examples/')), files.join('\n')).toBe(true);
    for (const file of ['plugin.cfg', 'plugin.gd', 'websocket_server.gd', 'README.md', 'LICENSE', 'bin/.gdignore', 'bin/sidecar.cjs']) {
      expect(files).toContain(`${ADDON}/${file}`);
    }
    for (const file of ['quick_start.tscn', 'quick_start.gd', 'chat_server.tscn', 'chat_server.gd']) expect(files).toContain(`examples/${file}`);
    for (const p of PLATFORMS) {
      expect(files).toContain(`${ADDON}/bin/${p.dir}/${p.executable}.zst`);
      expect(files).toContain(`${ADDON}/bin/${p.dir}/websocket-sidecar.json`);
      expect(files).not.toContain(`${ADDON}/bin/${p.dir}/${p.executable}`);
    }
    const readme = unzip('-p', RELEASE_ZIP, `${ADDON}/README.md`);
    expect(readme).toContain('Godot 4.4 or newer');
    const stated = Number(/Download size about ([\d.]+) MB/.exec(readme)?.[1]);
    expect(Math.abs(stated * 1e6 - statSync(RELEASE_ZIP).size), 'the README states the download size within 1 MB').toBeLessThan(1e6);
  });
});
