/**
 * The compressed copies and manifests the addon ships and extracts: the
 * manifest describes the raw executable exactly, the .zst is one plain zstd
 * frame whose window Godot's decoder accepts, and it decompresses to the raw
 * bytes. Skipped, naming the build command, when not built.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_WINDOW_LOG, type Manifest } from '../../packaging/compress.js';
import { PLATFORMS, SIDECAR_VERSION, outputBinary, outputCompressed, outputManifest } from '../../packaging/config.js';

/** Window log of a zstd frame, from its header (RFC 8878, section 3.1.1.1). */
function zstdWindowLog(frame: Buffer): number {
  expect(frame.readUInt32LE(0)).toBe(0xfd2fb528);
  const descriptor = frame[4]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  if (singleSegment) {
    // No window descriptor: the window is the content size.
    const fcsFlag = descriptor >> 6;
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const at = 5 + dictBytes;
    const size = [() => frame[at]!, () => frame.readUInt16LE(at) + 256, () => frame.readUInt32LE(at), () => Number(frame.readBigUInt64LE(at))][fcsFlag]!();
    return Math.ceil(Math.log2(size));
  }
  const wd = frame[5]!;
  return 10 + (wd >> 3) + ((wd & 7) > 0 ? 1 : 0);
}

for (const platform of PLATFORMS) {
  const zst = outputCompressed(platform);
  const built = existsSync(zst) && existsSync(outputManifest(platform)) && existsSync(outputBinary(platform));
  const title = (name: string): string => (built ? name : `${name} (skipped: ${zst} not built; run "npm run build:binaries")`);

  describe(`${platform.dir} compressed copy`, () => {
    it.skipIf(!built)(title('has a manifest describing the raw executable'), () => {
      const manifest = JSON.parse(readFileSync(outputManifest(platform), 'utf8')) as Manifest;
      const raw = readFileSync(outputBinary(platform));
      expect(manifest).toEqual({
        version: SIDECAR_VERSION,
        file: platform.executable,
        size: raw.length,
        sha256: createHash('sha256').update(raw).digest('hex'),
        compressed_size: statSync(zst).size,
      });
    });

    it.skipIf(!built)(title(`is one zstd frame with window log <= ${MAX_WINDOW_LOG} that decompresses to the raw bytes`), () => {
      const frame = readFileSync(zst);
      expect(zstdWindowLog(frame)).toBeLessThanOrEqual(MAX_WINDOW_LOG);
      const listed = spawnSync('zstd', ['-l', zst], { encoding: 'utf8' });
      expect(listed.stdout).toMatch(/^\s+1\s/m); // one frame
      const out = spawnSync('zstd', ['-d', '-c', zst], { maxBuffer: 512 * 1024 * 1024 });
      expect(out.status, String(out.stderr)).toBe(0);
      expect(createHash('sha256').update(out.stdout).digest('hex')).toBe(createHash('sha256').update(readFileSync(outputBinary(platform))).digest('hex'));
    });
  });
}
