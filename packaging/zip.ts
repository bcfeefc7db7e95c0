/**
 * Makes the release zip in the Godot Asset Library layout:
 * `addons/websocket_server/...` with the GDScript addon, `bin/sidecar.cjs`,
 * and for each platform `bin/<platform>/websocket-sidecar[.exe].zst` plus
 * `websocket-sidecar.json`. The raw executables stay out (about 430 MB
 * together); the addon extracts the .zst on first use, so the zip stays
 * under the 120 MB limit.
 *
 * Usage: tsx packaging/zip.ts   (needs compress.ts's outputs; writes dist/godot-websocket-server-<version>.zip)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ADDON_BIN_DIR, ADDON_DIR, PLATFORMS, RELEASE_ZIP, REPO_ROOT, isMain, mb, outputCompressed, outputManifest, runTool } from './config.js';

/** The Asset Library's limit on a download. */
export const MAX_ZIP_BYTES = 120 * 1024 * 1024;

const STAGING_DIR = join(REPO_ROOT, 'build', 'release');

/** True for addon files that belong in the zip. */
function shipped(file: string): boolean {
  const rel = relative(ADDON_DIR, file).split('\\').join('/');
  if (rel.split('/').some((part) => part.startsWith('.'))) return false; // .godot, editor droppings
  if (/\.tmp-\d+$/.test(rel)) return false;
  // Raw executables: only their compressed copies ship.
  return !PLATFORMS.some((p) => rel === `bin/${p.dir}/${p.executable}`);
}

/** Builds the zip and returns its path and the files in it (relative to the zip root). */
export function makeReleaseZip(): { zip: string; files: string[] } {
  const required = [join(ADDON_BIN_DIR, 'sidecar.cjs'), ...PLATFORMS.flatMap((p) => [outputCompressed(p), outputManifest(p)])];
  const missing = required.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`cannot make the release zip, missing:\n  ${missing.join('\n  ')}\nrun "npm run build:binaries" to build everything`);
  }
  rmSync(STAGING_DIR, { recursive: true, force: true });
  const stagedAddon = join(STAGING_DIR, 'addons', basename(ADDON_DIR));
  cpSync(ADDON_DIR, stagedAddon, { recursive: true, filter: (src) => src === ADDON_DIR || shipped(src) });
  const license = join(REPO_ROOT, 'LICENSE');
  if (existsSync(license) && !existsSync(join(stagedAddon, 'LICENSE'))) cpSync(license, join(stagedAddon, 'LICENSE'));

  mkdirSync(dirname(RELEASE_ZIP), { recursive: true });
  const partial = `${RELEASE_ZIP}.tmp-${process.pid}`;
  rmSync(partial, { force: true });
  // -X: no extra file attributes; -n .zst: store the already-compressed binaries as they are.
  runTool('zip', ['-q', '-r', '-X', '-n', '.zst', partial, 'addons'], `zip ${STAGING_DIR}`, 'Install zip (Debian: apt-get install zip).', {
    cwd: STAGING_DIR,
  });
  const size = statSync(partial).size;
  if (size > MAX_ZIP_BYTES) {
    rmSync(partial, { force: true });
    throw new Error(`the release zip would be ${mb(size)}, over the Asset Library's ${mb(MAX_ZIP_BYTES)}: compress the binaries harder (packaging/compress.ts)`);
  }
  renameSync(partial, RELEASE_ZIP);
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(relative(STAGING_DIR, full).split('\\').join('/'));
    }
  };
  walk(STAGING_DIR);
  rmSync(STAGING_DIR, { recursive: true, force: true });
  return { zip: RELEASE_ZIP, files: files.sort() };
}

if (isMain(import.meta.url)) {
  try {
    const { zip, files } = makeReleaseZip();
    console.log(`release zip: ${zip} (${mb(statSync(zip).size)}, ${files.length} files)`);
  } catch (error) {
    console.error(`zip: ${(error as Error).message}`);
    process.exit(1);
  }
}
