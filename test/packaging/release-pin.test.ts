/**
 * release.json: the hashes `npm run release` pins in the addon, the flat release assets it
 * copies, and the committed file of a copy with no release built.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON_DIR, PLATFORMS, SIDECAR_VERSION } from '../../packaging/config.js';
import { assetName, writeReleasePin } from '../../packaging/release-pin.js';

const work = mkdtempSync(join(tmpdir(), 'release-pin-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('writeReleasePin', () => {
  it('pins size and SHA-256 of every platform\'s .zst and manifest, copies them as flat assets, and keeps the repository', () => {
    const bin = join(work, 'bin');
    for (const p of PLATFORMS) {
      mkdirSync(join(bin, p.dir), { recursive: true });
      writeFileSync(join(bin, p.dir, `${p.executable}.zst`), `zst of ${p.dir}`);
      writeFileSync(join(bin, p.dir, 'websocket-sidecar.json'), `{"for":"${p.dir}"}`);
    }
    const pinPath = join(work, 'release.json');
    writeFileSync(pinPath, JSON.stringify({ version: '0.0.1', repository: 'someone/ws', base_url: 'https://example.test/{version}/', platforms: {} }));
    const assetsDir = join(work, 'assets');
    writeReleasePin({
      pinPath,
      assetsDir,
      compressedOf: (p) => join(bin, p.dir, `${p.executable}.zst`),
      manifestOf: (p) => join(bin, p.dir, 'websocket-sidecar.json'),
    });
    const pin = JSON.parse(readFileSync(pinPath, 'utf8')) as { version: string; repository: string; base_url: string; platforms: Record<string, unknown[]> };
    expect(pin.version).toBe(SIDECAR_VERSION);
    expect(pin.repository).toBe('someone/ws');
    expect(pin.base_url).toBe('https://example.test/{version}/');
    const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
    expect(pin.platforms['windows-x64']).toEqual([
      { asset: 'websocket-sidecar-windows-x64.exe.zst', file: 'websocket-sidecar.exe.zst', size: 'zst of windows-x64'.length, sha256: sha('zst of windows-x64') },
      { asset: 'websocket-sidecar-windows-x64.json', file: 'websocket-sidecar.json', size: '{"for":"windows-x64"}'.length, sha256: sha('{"for":"windows-x64"}') },
    ]);
    expect(Object.keys(pin.platforms).sort()).toEqual(PLATFORMS.map((p) => p.dir).sort());
    expect(readdirSync(assetsDir).sort()).toEqual(PLATFORMS.flatMap((p) => [assetName(p, `${p.executable}.zst`), assetName(p, 'websocket-sidecar.json')]).sort());
    expect(readFileSync(join(assetsDir, 'websocket-sidecar-macos-x64.zst'), 'utf8')).toBe('zst of macos-x64');
  });

  it('refuses a missing file and an unknown option', () => {
    expect(() => writeReleasePin({ pinPath: join(work, 'x.json'), assetsDir: join(work, 'a2'), compressedOf: () => join(work, 'nope.zst') })).toThrow(
      /nope\.zst is missing; run "npm run release"/,
    );
    expect(() => writeReleasePin({ pinpath: 'x' } as never)).toThrow(new TypeError('writeReleasePin: unknown option "pinpath" (known: pinPath, assetsDir, compressedOf, manifestOf)'));
  });
});

describe('the committed release.json', () => {
  it('is for this version, names the download URL pattern, and pins nothing until a release is built', () => {
    const pin = JSON.parse(readFileSync(join(ADDON_DIR, 'release.json'), 'utf8')) as Record<string, unknown>;
    expect(pin.version).toBe(SIDECAR_VERSION);
    expect(pin.base_url).toBe('https://github.com/{repository}/releases/download/v{version}/');
    expect(typeof pin.repository).toBe('string');
    if (Object.keys(pin.platforms as object).length === 0) expect(pin.about).toMatch(/^No release is pinned in this copy of the addon: `npm run release` writes this file/);
  });
});
