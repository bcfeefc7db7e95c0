/**
 * Which sidecar a TypeScript host runs: the platform binary when it has been
 * built (what Godot users get), else `node` with the bundled JavaScript.
 * `GODOT_WEBSOCKET_SIDECAR`, the variable the addon's `sidecar_locator.gd`
 * reads, overrides both: a path to a binary or to a script (`.js`, `.cjs`,
 * `.mjs`, run with node, as the addon does), or `node` to force the bundle.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SidecarCommand {
  file: string;
  args: string[];
  /** `binary` or `node`, for logs and test names. */
  kind: 'binary' | 'node';
}

/** Environment variable naming an explicit sidecar; `sidecar_locator.gd`'s `ENV_SIDECAR_PATH`. */
export const ENV_SIDECAR_PATH = 'GODOT_WEBSOCKET_SIDECAR';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_PATH = join(REPO_ROOT, 'dist', 'sidecar.cjs');
export const ADDON_BIN_DIR = join(REPO_ROOT, 'godot-addon', 'addons', 'websocket_server', 'bin');

/** Folder name of this machine's platform under the addon's bin/, e.g. `linux-x64`. */
export function platformDir(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'win32' ? 'windows' : platform === 'darwin' ? 'macos' : platform;
  return `${os}-${arch}`;
}

/** Path of this platform's built sidecar binary (it may not exist). */
export function binaryPath(): string {
  return join(ADDON_BIN_DIR, platformDir(), process.platform === 'win32' ? 'websocket-sidecar.exe' : 'websocket-sidecar');
}

export function nodeCommand(): SidecarCommand {
  if (!existsSync(BUNDLE_PATH)) {
    throw new Error(`the sidecar bundle ${BUNDLE_PATH} does not exist: run "npm run build" first`);
  }
  return { file: process.execPath, args: [BUNDLE_PATH], kind: 'node' };
}

/** How to run the sidecar at `path`: a script under this process's node, anything else directly (`command_for` in GDScript). */
export function commandFor(path: string): SidecarCommand {
  return ['.js', '.cjs', '.mjs'].includes(extname(path)) ? { file: process.execPath, args: [path], kind: 'node' } : { file: path, args: [], kind: 'binary' };
}

/** The sidecar to run, following the rules above. */
export function resolveSidecarCommand(env: NodeJS.ProcessEnv = process.env): SidecarCommand {
  const override = env[ENV_SIDECAR_PATH];
  if (override === 'node') return nodeCommand();
  if (override !== undefined && override !== '') {
    if (!existsSync(override)) throw new Error(`${ENV_SIDECAR_PATH} points at ${override}, which does not exist`);
    return commandFor(override);
  }
  const binary = binaryPath();
  // A binary older than the bundle was built from older sources: prefer the fresh bundle.
  if (existsSync(binary) && (!existsSync(BUNDLE_PATH) || statSync(binary).mtimeMs >= statSync(BUNDLE_PATH).mtimeMs)) {
    return { file: binary, args: [], kind: 'binary' };
  }
  return nodeCommand();
}
