/**
 * Pins a release in the addon: writes `addons/websocket_server/release.json`
 * with the SHA-256 and size of every platform's compressed sidecar and
 * manifest, and copies those files under flat, per-platform names into
 * `dist/release-assets/` to be attached to the GitHub release. An addon
 * installed without binaries (the Asset Library's commit ZIP) downloads them
 * from `base_url` and refuses any file whose hash differs (sidecar_downloader.gd).
 *
 * The file's `repository` and `base_url` are kept as they are: they say where
 * the project is published, which the build cannot know.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ADDON_DIR, PLATFORMS, REPO_ROOT, SIDECAR_VERSION, type Platform, outputCompressed, outputManifest } from './config.js';

/** One file of a platform as release.json lists it. */
export interface PinnedFile {
  /** Name of the release asset (flat: the platform is part of it). */
  asset: string;
  /** Name of the file in `bin/<platform>/`. */
  file: string;
  size: number;
  sha256: string;
}

export interface PinOptions {
  /** The pin file; default `godot-addon/addons/websocket_server/release.json`. */
  pinPath?: string;
  /** Where the release assets are copied; default `dist/release-assets`. */
  assetsDir?: string;
  /** Path of a platform's compressed sidecar; default config.ts's `outputCompressed`. */
  compressedOf?: (platform: Platform) => string;
  /** Path of a platform's manifest; default config.ts's `outputManifest`. */
  manifestOf?: (platform: Platform) => string;
}

const DEFAULTS: Required<PinOptions> = {
  pinPath: join(ADDON_DIR, 'release.json'),
  assetsDir: join(REPO_ROOT, 'dist', 'release-assets'),
  compressedOf: outputCompressed,
  manifestOf: outputManifest,
};

const DEFAULT_BASE_URL = 'https://github.com/{repository}/releases/download/v{version}/';

/** Release asset name of a file of `platform`: `websocket-sidecar-linux-x64.zst`, `websocket-sidecar-windows-x64.exe.zst`. */
export function assetName(platform: Platform, file: string): string {
  return file.replace(/^websocket-sidecar/, `websocket-sidecar-${platform.dir}`);
}

/**
 * Writes release.json and the release assets from the files the build made.
 * @returns every platform's pinned files
 */
export function writeReleasePin(options: PinOptions = {}): Record<string, PinnedFile[]> {
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULTS)) throw new TypeError(`writeReleasePin: unknown option "${key}" (known: ${Object.keys(DEFAULTS).join(', ')})`);
  }
  const { pinPath, assetsDir, compressedOf, manifestOf } = { ...DEFAULTS, ...options };
  const previous = existsSync(pinPath) ? (JSON.parse(readFileSync(pinPath, 'utf8')) as Record<string, unknown>) : {};
  rmSync(assetsDir, { recursive: true, force: true });
  mkdirSync(assetsDir, { recursive: true });
  const platforms: Record<string, PinnedFile[]> = {};
  for (const platform of PLATFORMS) {
    platforms[platform.dir] = [compressedOf(platform), manifestOf(platform)].map((path) => {
      if (!existsSync(path)) throw new Error(`cannot pin the release: ${path} is missing; run "npm run release"`);
      const data = readFileSync(path);
      const pinned: PinnedFile = {
        asset: assetName(platform, basename(path)),
        file: basename(path),
        size: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
      };
      copyFileSync(path, join(assetsDir, pinned.asset));
      return pinned;
    });
  }
  const pin = {
    about:
      'Written by `npm run release` from the files it built: the editor plugin downloads a missing sidecar from base_url ' +
      'and refuses any file whose SHA-256 differs. Set "repository" (GitHub owner/name) here or in the project setting ' +
      'websocket_server/release_repository.',
    version: SIDECAR_VERSION,
    repository: typeof previous.repository === 'string' ? previous.repository : '',
    base_url: typeof previous.base_url === 'string' ? previous.base_url : DEFAULT_BASE_URL,
    platforms,
  };
  writeFileSync(pinPath, `${JSON.stringify(pin, null, 2)}\n`);
  return platforms;
}
