/**
 * Everything after `npm run build` for the per-platform sidecar executables:
 * download the Node binaries (cached), make the SEA blob, inject it into each,
 * sign the macOS ones, and, unless told not to, compress each and write its
 * manifest. Steps whose output is already current are skipped. Each step
 * prints which platform, which stage, how long it took and the sizes, because
 * a full build takes minutes.
 *
 * `npm run demo` (packaging/demo.ts) builds only this machine's platform,
 * uncompressed; `npm run release` (packaging/release.ts) builds all four,
 * compressed, and the zip.
 *
 * Usage: tsx packaging/build-binaries.ts [--force] [--uncompressed] [--only=linux-x64,...]
 *   --force         rebuild and recompress everything
 *   --uncompressed  skip zstd (the raw executables are all a local run needs)
 *   --only          build just these platforms, e.g. `npm run build:binaries -- --only=linux-x64`
 */
import { rmSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { PLATFORMS, type Platform, REPO_ROOT, isMain, mb, outputBinary, outputCompressed, outputManifest, platformByDir } from './config.js';
import { compressPlatform } from './compress.js';
import { fetchNode, isNodeCached } from './fetch-node.js';
import { injectPlatform } from './inject.js';
import { makeBlob } from './make-blob.js';

export interface BuildOptions {
  /** Redo every step even when its output is current; default false. */
  force?: boolean;
  /** Platforms to build; default all four. */
  platforms?: readonly Platform[];
  /** Compress each executable and write its manifest (what the release zip ships); default true. */
  compress?: boolean;
}

/** One platform's outcome: raw size, compressed size (when compressed), and whether nothing had to be redone. */
export interface BuiltPlatform {
  platform: Platform;
  size: number;
  compressedSize?: number;
  upToDate: boolean;
}

/** Prints `==> label`, runs `run`, then prints what it produced (`result`) and how long it took. */
export function step<T>(label: string, run: () => T, result: (value: T) => string = () => 'done'): T {
  const started = Date.now();
  console.log(`==> ${label}`);
  const value = run();
  console.log(`    ${result(value)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return value;
}

/** Builds the executables and returns one row per platform; see the file comment. */
export function buildBinaries(options: BuildOptions = {}): BuiltPlatform[] {
  const platforms = options.platforms ?? PLATFORMS;
  const compress = options.compress ?? true;
  for (const platform of platforms) {
    const cached = isNodeCached(platform);
    step(
      `[${platform.dir}] Node binary: ${cached ? 'already in .cache/node-binaries' : 'fetching'}`,
      () => fetchNode(platform),
      (binary) => `${relative(REPO_ROOT, binary)}, ${mb(statSync(binary).size)}`,
    );
  }
  step('SEA blob from dist/sidecar.cjs', () => makeBlob(), (blob) => mb(statSync(blob).size));
  const built: BuiltPlatform[] = [];
  platforms.forEach((platform, index) => {
    const where = `[${platform.dir}, ${index + 1} of ${platforms.length}]`;
    const { file, reused } = step(
      `${where} inject the blob${platform.format === 'macho' ? ' and sign' : ''}`,
      () => injectPlatform(platform, options),
      ({ file: out, reused: kept }) => `${relative(REPO_ROOT, out)}, ${mb(statSync(out).size)}${kept ? ', up to date' : ''}`,
    );
    if (!compress) {
      // A .zst left from an older build would no longer match this executable.
      if (!reused) for (const stale of [outputCompressed(platform), outputManifest(platform)]) rmSync(stale, { force: true });
      built.push({ platform, size: statSync(file).size, upToDate: reused });
      return;
    }
    const manifest = step(
      `${where} compress (zstd -19, the slow stage)`,
      () => compressPlatform(platform, options),
      (m) => `${mb(m.size)} -> ${mb(m.compressed_size)}${m.reused ? ', up to date' : ''}`,
    );
    built.push({ platform, size: manifest.size, compressedSize: manifest.compressed_size, upToDate: reused && manifest.reused });
  });
  return built;
}

/** The closing table: one line per platform with its sizes and path. */
export function describeBuilt(built: readonly BuiltPlatform[]): string {
  const rows = built.map(({ platform, size, compressedSize, upToDate }) => {
    const zst = compressedSize === undefined ? '' : `  ${mb(compressedSize).padStart(8)} .zst`;
    return `  ${platform.dir.padEnd(12)} ${mb(size).padStart(9)} raw${zst}  ${relative(REPO_ROOT, outputBinary(platform))}${upToDate ? '  (up to date)' : ''}`;
  });
  return `sidecar executables:\n${rows.join('\n')}`;
}

if (isMain(import.meta.url)) {
  try {
    const started = Date.now();
    const only = process.argv.find((arg) => arg.startsWith('--only='));
    const flags = ['--force', '--uncompressed'];
    const unknown = process.argv.slice(2).filter((arg) => !flags.includes(arg) && arg !== only);
    if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}: use --force, --uncompressed and/or --only=<platform>,...`);
    const platforms = only?.slice('--only='.length).split(',').filter(Boolean).map(platformByDir);
    const built = buildBinaries({
      force: process.argv.includes('--force'),
      compress: !process.argv.includes('--uncompressed'),
      ...(platforms ? { platforms } : {}),
    });
    console.log(`\n${describeBuilt(built)}`);
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; the release zip is made by "npm run release"`);
  } catch (error) {
    console.error(`\nbuild:binaries failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
