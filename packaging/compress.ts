/**
 * Compresses each built sidecar executable to a plain zstd frame that Godot
 * reads with `PackedByteArray.decompress(size, FileAccess.COMPRESSION_ZSTD)`,
 * and writes `websocket-sidecar.json` next to it: version, file name, raw size,
 * SHA-256 of the raw executable, compressed size. The exported game ships the
 * .zst and the manifest; the addon extracts and verifies on first start.
 *
 * Godot's zstd decoder accepts windows up to 2^27 bytes (zstd's default
 * limit), so the window log is capped at 27.
 *
 * Usage: tsx packaging/compress.ts [platform-dir...]   (default: all four)
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PLATFORMS, type Platform, SIDECAR_VERSION, isMain, mb, outputBinary, outputCompressed, outputManifest, platformByDir, runTool } from './config.js';

/** zstd level: 19 is the strongest level that needs no --ultra and keeps decoding memory small. */
export const ZSTD_LEVEL = 19;
/** Largest window log Godot's decoder accepts by default (zstd's ZSTD_WINDOWLOG_LIMIT_DEFAULT). */
export const MAX_WINDOW_LOG = 27;
/**
 * Window log used: level 19's own 23 (8 MiB). `-19 --long=27` was tried and
 * had not finished one binary after 11 minutes on the 2-core build machine
 * (plain -19: about 3 minutes), so it is not used.
 */
export const WINDOW_LOG = 23;

export interface Manifest {
  version: string;
  file: string;
  size: number;
  sha256: string;
  compressed_size: number;
}

/** The manifest on disk when it and the .zst describe exactly this raw executable, else undefined. */
export function currentManifest(platform: Platform, rawSha256: string): Manifest | undefined {
  const zst = outputCompressed(platform);
  if (!existsSync(outputManifest(platform)) || !existsSync(zst)) return undefined;
  try {
    const m = JSON.parse(readFileSync(outputManifest(platform), 'utf8')) as Manifest;
    const fresh = m.version === SIDECAR_VERSION && m.sha256 === rawSha256 && m.compressed_size === statSync(zst).size && m.file === platform.executable;
    return fresh ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Compresses one platform's executable and writes its manifest; returns the
 * manifest. Skips the slow compression when the manifest already matches.
 */
export function compressPlatform(platform: Platform, options: { force?: boolean } = {}): Manifest & { reused: boolean } {
  const raw = outputBinary(platform);
  if (!existsSync(raw)) throw new Error(`${raw} does not exist: build it first with "tsx packaging/inject.ts ${platform.dir}"`);
  const rawSha256 = createHash('sha256').update(readFileSync(raw)).digest('hex');
  const existing = options.force ? undefined : currentManifest(platform, rawSha256);
  if (existing) return { ...existing, reused: true };
  const zst = outputCompressed(platform);
  const staging = `${zst}.tmp-${process.pid}`;
  rmSync(staging, { force: true });
  runTool(
    'zstd',
    [`-${ZSTD_LEVEL}`, '-T0', '-q', '-f', '--no-progress', `--zstd=wlog=${WINDOW_LOG}`, raw, '-o', staging],
    `compress ${raw}`,
    'Install zstd (Debian: apt-get install zstd).',
  );
  const manifest: Manifest = {
    version: SIDECAR_VERSION,
    file: platform.executable,
    size: statSync(raw).size,
    sha256: rawSha256,
    compressed_size: statSync(staging).size,
  };
  chmodSync(staging, 0o644); // zstd copies the executable bit; the .zst is data
  renameSync(staging, zst);
  writeFileSync(outputManifest(platform), `${JSON.stringify(manifest, null, 2)}\n`);
  return { ...manifest, reused: false };
}

if (isMain(import.meta.url)) {
  try {
    const wanted = process.argv.length > 2 ? process.argv.slice(2).map(platformByDir) : PLATFORMS;
    for (const platform of wanted) {
      const m = compressPlatform(platform, { force: true });
      console.log(`${platform.dir}: ${mb(m.size)} -> ${mb(m.compressed_size)} (${outputCompressed(platform)})`);
    }
  } catch (error) {
    console.error(`compress: ${(error as Error).message}`);
    process.exit(1);
  }
}
