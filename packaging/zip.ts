/**
 * Makes the release zip in the layout the Godot Asset Library installs into a
 * project's root:
 *
 *   addons/websocket_server/   the GDScript addon, `README.md` (addon-readme.ts), `LICENSE`,
 *                              `bin/.gdignore`, `bin/sidecar.cjs`, and per platform
 *                              `bin/<platform>/websocket-sidecar[.exe].zst` + `websocket-sidecar.json`
 *   examples/                  the Quick Start and chat scenes (`res://examples/...`, as in the repository)
 *
 * The raw executables stay out (about 430 MB together); the addon extracts
 * the .zst on first use, so the zip stays under the 120 MB limit.
 *
 * Usage: tsx packaging/zip.ts   (needs compress.ts's outputs; writes dist/godot-websocket-server-<version>.zip)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { renderAddonReadme } from './addon-readme.js';
import { ADDON_BIN_DIR, ADDON_DIR, PLATFORMS, RELEASE_ZIP, REPO_ROOT, isMain, mb, outputCompressed, outputManifest, runTool } from './config.js';

/** The Asset Library's limit on a download. */
export const MAX_ZIP_BYTES = 120 * 1024 * 1024;

const STAGING_DIR = join(REPO_ROOT, 'build', 'release');
const EXAMPLES_DIR = join(REPO_ROOT, 'godot-addon', 'examples');

/** True for addon files that belong in the zip. */
function shipped(file: string): boolean {
  const rel = relative(ADDON_DIR, file).split('\\').join('/');
  // Dot files are editor droppings (.godot), except bin/.gdignore, which keeps the editor from importing the binaries.
  if (rel !== 'bin/.gdignore' && rel.split('/').some((part) => part.startsWith('.'))) return false;
  if (/\.tmp-\d+$/.test(rel)) return false;
  // Raw executables: only their compressed copies ship.
  return !PLATFORMS.some((p) => rel === `bin/${p.dir}/${p.executable}`);
}

/** Every file under `dir`, relative to it, with forward slashes, with its size. */
function listFiles(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.set(relative(dir, full).split('\\').join('/'), statSync(full).size);
    }
  };
  walk(dir);
  return files;
}

export interface ReleaseZip {
  zip: string;
  /** Size of the zip in bytes. */
  size: number;
  /** The files in it (relative to the zip root), sorted. */
  files: string[];
  /** Bytes each platform's sidecar takes in the zip (stored as is), by platform folder. */
  platformBytes: Map<string, number>;
}

/** Builds the zip; see the file comment. */
export function makeReleaseZip(): ReleaseZip {
  const required = [join(ADDON_BIN_DIR, 'sidecar.cjs'), join(ADDON_BIN_DIR, '.gdignore'), ...PLATFORMS.flatMap((p) => [outputCompressed(p), outputManifest(p)])];
  const missing = required.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`cannot make the release zip, missing:\n  ${missing.join('\n  ')}\nrun "npm run release" to build everything`);
  }
  rmSync(STAGING_DIR, { recursive: true, force: true });
  const stagedAddon = join(STAGING_DIR, 'addons', basename(ADDON_DIR));
  cpSync(ADDON_DIR, stagedAddon, { recursive: true, filter: (src) => src === ADDON_DIR || shipped(src) });
  cpSync(join(REPO_ROOT, 'LICENSE'), join(stagedAddon, 'LICENSE'));
  cpSync(EXAMPLES_DIR, join(STAGING_DIR, 'examples'), { recursive: true, filter: (src) => !basename(src).startsWith('.') });
  // The .zst files are stored as they are, so the staged total is the download size give or take a few kB.
  const staged = [...listFiles(STAGING_DIR).values()].reduce((sum, size) => sum + size, 0);
  writeFileSync(join(stagedAddon, 'README.md'), renderAddonReadme(staged));

  mkdirSync(dirname(RELEASE_ZIP), { recursive: true });
  const partial = `${RELEASE_ZIP}.tmp-${process.pid}`;
  rmSync(partial, { force: true });
  // -X: no extra file attributes; -n .zst: store the already-compressed binaries as they are.
  runTool('zip', ['-q', '-r', '-X', '-n', '.zst', partial, 'addons', 'examples'], `zip ${STAGING_DIR}`, 'Install zip (Debian: apt-get install zip).', {
    cwd: STAGING_DIR,
  });
  const size = statSync(partial).size;
  if (size > MAX_ZIP_BYTES) {
    rmSync(partial, { force: true });
    throw new Error(`the release zip would be ${mb(size)}, over the Asset Library's ${mb(MAX_ZIP_BYTES)}: compress the binaries harder (packaging/compress.ts)`);
  }
  renameSync(partial, RELEASE_ZIP);
  const files = listFiles(STAGING_DIR);
  const platformBytes = new Map(PLATFORMS.map((p) => [p.dir, files.get(`addons/websocket_server/bin/${p.dir}/${p.executable}.zst`) ?? 0]));
  rmSync(STAGING_DIR, { recursive: true, force: true });
  return { zip: RELEASE_ZIP, size, files: [...files.keys()].sort(), platformBytes };
}

/** The zip's size and what each platform's sidecar takes of it, for the build log. */
export function describeZip({ zip, size, files, platformBytes }: ReleaseZip): string {
  const percent = (bytes: number): string => `${((100 * bytes) / size).toFixed(1).padStart(5)} %`;
  const rows = [...platformBytes].map(([dir, bytes]) => `  ${dir.padEnd(12)} ${mb(bytes).padStart(9)}  ${percent(bytes)}`);
  const rest = size - [...platformBytes.values()].reduce((sum, bytes) => sum + bytes, 0);
  rows.push(`  ${'the rest'.padEnd(12)} ${mb(rest).padStart(9)}  ${percent(rest)}  (addon scripts, sidecar.cjs, README, LICENSE, examples)`);
  return `release zip: ${relative(REPO_ROOT, zip)}, ${mb(size)}, ${files.length} files; each platform's share:\n${rows.join('\n')}`;
}

if (isMain(import.meta.url)) {
  try {
    console.log(describeZip(makeReleaseZip()));
  } catch (error) {
    console.error(`zip: ${(error as Error).message}`);
    process.exit(1);
  }
}
