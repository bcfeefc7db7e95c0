/**
 * Turns each platform's official Node binary into the sidecar executable:
 * prepares it (Linux: strip debug symbols; Windows: remove the Authenticode
 * signature, which injection would invalidate; macOS: remove Apple's
 * signature), injects the SEA blob with postject and flips the SEA fuse,
 * signs macOS binaries ad-hoc, checks the result, and writes it to
 * `godot-addon/addons/websocket_server/bin/<platform>/`.
 *
 * Usage: tsx packaging/inject.ts [platform-dir...]   (default: all four; needs the blob from make-blob.ts)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  BLOB_PATH,
  MACHO_SEGMENT,
  NODE_VERSION,
  PLATFORMS,
  type Platform,
  SEA_BUILD_DIR,
  SEA_FUSE,
  SEA_RESOURCE,
  isMain,
  mb,
  outputBinary,
  outputDir,
  platformByDir,
  runTool,
} from './config.js';
import { fetchNode } from './fetch-node.js';
import { findSeaBlob, parsePE, seaFuseState } from './inspect.js';
import { removeSignature, signAdHoc, verifySignature } from './macho-sign.js';

const require = createRequire(import.meta.url);

/** Identifier in the macOS code signature. */
export const MACOS_IDENTIFIER = 'websocket-sidecar';

function prepare(platform: Platform, file: string): void {
  if (platform.format === 'elf') {
    // Node's Linux binary ships its symbol table (about 18 MB); the sidecar does not need it.
    runTool('strip', ['--strip-all', file], `strip ${file}`, 'Install binutils (Debian: apt-get install binutils).');
  } else if (platform.format === 'pe') {
    const unsigned = `${file}.unsigned`;
    runTool(
      'osslsigncode',
      ['remove-signature', '-in', file, '-out', unsigned],
      `remove the Authenticode signature from ${file}`,
      'Install osslsigncode (Debian: apt-get update && apt-get install osslsigncode).',
    );
    renameSync(unsigned, file);
  } else {
    writeFileSync(file, removeSignature(readFileSync(file)));
  }
}

/** Runs postject in a child process, so LIEF's parser warnings can be filtered from the log. */
function postject(platform: Platform, file: string, blob: string): void {
  const cli = join(require.resolve('postject'), '..', 'cli.js');
  const args = [cli, file, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE];
  if (platform.format === 'macho') args.push('--macho-segment-name', MACHO_SEGMENT);
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const said = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '' && !/Can't find string offset for section name/.test(line))
    .join('\n  ');
  if (result.status !== 0) {
    throw new Error(
      `postject could not inject the blob into the ${platform.dir} binary ${file} (exit ${result.status ?? result.signal}):\n  ${said}\n` +
        `Delete ${SEA_BUILD_DIR} and the cached binary under .cache/node-binaries/${platform.npmPackage}-*, then run again.`,
    );
  }
}

/** Checks the finished binary without running it; throws naming what is wrong. */
export function checkInjected(platform: Platform, file: string, blob: Buffer): void {
  const buf = readFileSync(file);
  const injected = findSeaBlob(buf);
  if (!injected) throw new Error(`${file} carries no ${SEA_RESOURCE} after injection`);
  if (!injected.equals(blob)) throw new Error(`the ${SEA_RESOURCE} in ${file} differs from ${BLOB_PATH}`);
  if (seaFuseState(buf) !== '1') throw new Error(`the SEA fuse in ${file} is not flipped, so Node would ignore the blob`);
  if (platform.format === 'pe') {
    const [, certificates] = parsePE(buf).directories[4] ?? [0, 0];
    if (certificates !== 0) throw new Error(`${file} still carries an Authenticode signature, now invalid`);
  }
  if (platform.format === 'macho') {
    const report = verifySignature(buf);
    if (report.errors.length > 0) throw new Error(`the ad-hoc signature of ${file} does not verify:\n  ${report.errors.join('\n  ')}`);
  }
}

/**
 * Builds one platform's sidecar executable and returns its path in the addon.
 * An existing output that already carries this exact blob and passes every
 * check is kept (`reused`), so repeated builds take seconds.
 */
export function injectPlatform(platform: Platform, options: { blobPath?: string; force?: boolean } = {}): { file: string; reused: boolean } {
  const blobPath = options.blobPath ?? BLOB_PATH;
  if (!existsSync(blobPath)) throw new Error(`the SEA blob ${blobPath} does not exist: run "tsx packaging/make-blob.ts" first`);
  const blob = readFileSync(blobPath);
  const target = outputBinary(platform);
  const stampFile = join(SEA_BUILD_DIR, `${platform.dir}.stamp.json`);
  const stamp = JSON.stringify({ node: NODE_VERSION, blobSha256: createHash('sha256').update(blob).digest('hex') });
  if (!options.force && existsSync(target) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    try {
      checkInjected(platform, target, blob);
      // Current with the bundle just built: say so by date too, since hosts
      // prefer dist/sidecar.cjs over a binary older than it.
      const now = new Date();
      utimesSync(target, now, now);
      return { file: target, reused: true };
    } catch {
      // Stale or damaged: rebuild below.
    }
  }
  const source = fetchNode(platform);
  const workDir = join(SEA_BUILD_DIR, platform.dir);
  const work = join(workDir, platform.executable);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  copyFileSync(source, work);
  chmodSync(work, 0o755);
  prepare(platform, work);
  postject(platform, work, blobPath);
  if (platform.format === 'macho') writeFileSync(work, signAdHoc(readFileSync(work), MACOS_IDENTIFIER));
  checkInjected(platform, work, blob);
  mkdirSync(outputDir(platform), { recursive: true });
  const staging = `${target}.tmp-${process.pid}`;
  copyFileSync(work, staging);
  chmodSync(staging, 0o755);
  renameSync(staging, target);
  writeFileSync(stampFile, stamp);
  rmSync(workDir, { recursive: true, force: true });
  return { file: target, reused: false };
}

if (isMain(import.meta.url)) {
  try {
    const wanted = process.argv.length > 2 ? process.argv.slice(2).map(platformByDir) : PLATFORMS;
    for (const platform of wanted) {
      const { file } = injectPlatform(platform, { force: true });
      console.log(`${platform.dir}: ${file} (${mb(readFileSync(file).length)})`);
    }
  } catch (error) {
    console.error(`inject: ${(error as Error).message}`);
    process.exit(1);
  }
}
