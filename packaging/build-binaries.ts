/**
 * Everything after `npm run build` for the per-platform sidecar executables:
 * download the four Node binaries (cached), make the SEA blob, inject it into
 * each, sign the macOS ones, compress each and write its manifest, and make
 * the release zip. Steps whose output is already current are skipped.
 * `npm run build:binaries` runs `npm run build` and then this.
 *
 * Usage: tsx packaging/build-binaries.ts [--force] [--only=linux-x64,...]
 *   --force  rebuild and recompress everything
 *   --only   build just these platforms and skip the release zip (which needs all four);
 *            e.g. `npm run build:binaries -- --only=linux-x64` for a quick local run
 */
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { PLATFORMS, type Platform, REPO_ROOT, isMain, mb, outputBinary, platformByDir } from './config.js';
import { compressPlatform } from './compress.js';
import { fetchNode } from './fetch-node.js';
import { injectPlatform } from './inject.js';
import { makeBlob } from './make-blob.js';
import { makeReleaseZip } from './zip.js';

function step<T>(label: string, run: () => T): T {
  const started = Date.now();
  console.log(`==> ${label}`);
  const result = run();
  console.log(`    ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

export function buildBinaries(options: { force?: boolean; platforms?: readonly Platform[] } = {}): void {
  const started = Date.now();
  const platforms = options.platforms ?? PLATFORMS;
  for (const platform of platforms) step(`Node binary for ${platform.dir} (npm pack, cached)`, () => fetchNode(platform));
  step('SEA blob from dist/sidecar.cjs', () => makeBlob());
  const rows: string[] = [];
  for (const platform of platforms) {
    const { reused } = step(`inject ${platform.dir}`, () => injectPlatform(platform, options));
    const manifest = step(`compress ${platform.dir} (zstd -19)`, () => compressPlatform(platform, options));
    rows.push(
      `  ${platform.dir.padEnd(12)} ${mb(manifest.size).padStart(9)} raw  ${mb(manifest.compressed_size).padStart(8)} .zst  ` +
        `${relative(REPO_ROOT, outputBinary(platform))}${reused && manifest.reused ? '  (up to date)' : ''}`,
    );
  }
  const all = PLATFORMS.every((p) => platforms.includes(p));
  const zip = all ? step('release zip', () => makeReleaseZip()).zip : undefined;
  console.log(`\nsidecar executables:\n${rows.join('\n')}`);
  if (zip) console.log(`release zip: ${relative(REPO_ROOT, zip)} (${mb(statSync(zip).size)}; compressed binaries only)`);
  else console.log('release zip: skipped (--only builds a subset; the zip needs all four platforms)');
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (isMain(import.meta.url)) {
  try {
    const only = process.argv.find((arg) => arg.startsWith('--only='));
    const unknown = process.argv.slice(2).filter((arg) => arg !== '--force' && arg !== only);
    if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}: use --force and/or --only=<platform>,...`);
    const platforms = only?.slice('--only='.length).split(',').filter(Boolean).map(platformByDir);
    buildBinaries({ force: process.argv.includes('--force'), ...(platforms ? { platforms } : {}) });
  } catch (error) {
    console.error(`\nbuild:binaries failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
