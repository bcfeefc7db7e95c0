/**
 * Downloads the official Node binary of each platform from the npm registry
 * (packages that republish them) into `.cache/node-binaries/`, verifies the
 * tarball against the integrity npm reported, and extracts the executable.
 * `npm pack` is used because the packages' os/cpu fields make `npm install`
 * refuse them on other platforms. Cached downloads are re-verified, not
 * re-downloaded.
 *
 * Usage: tsx packaging/fetch-node.ts [platform-dir...]   (default: all four)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NODE_CACHE_DIR, NODE_VERSION, PLATFORMS, type Platform, cachedNodeBinary, isMain, mb, platformByDir, runTool } from './config.js';
import { detectFormat } from './inspect.js';

function sha512Integrity(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Path of the package tarball in the cache, downloading it when missing. */
export function fetchTarball(platform: Platform): string {
  const spec = `${platform.npmPackage}@${NODE_VERSION}`;
  const tarball = join(NODE_CACHE_DIR, `${platform.npmPackage}-${NODE_VERSION}.tgz`);
  const integrityFile = `${tarball}.integrity`;
  if (existsSync(tarball) && existsSync(integrityFile)) {
    const expected = readFileSync(integrityFile, 'utf8').trim();
    if (sha512Integrity(tarball) === expected) return tarball;
    console.warn(`${tarball} does not match its recorded integrity (a damaged download?); downloading it again`);
  }
  const partial = join(NODE_CACHE_DIR, `.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`npm pack ${spec}: from npm's own cache when it has it, else downloaded from the registry (35–52 MB)...`);
  let packed: { filename: string; integrity: string }[];
  try {
    const out = runTool(
      'npm',
      ['pack', spec, '--json', '--pack-destination', partial],
      `download ${spec}`,
      'Install Node.js with npm (https://nodejs.org or your package manager) and run again.',
    );
    packed = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; integrity: string }[];
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(
      `${(error as Error).message}\n` +
        `Check that the npm registry is reachable (\`npm config get registry\`, \`npm view ${spec} version\`), ` +
        `or put the tarball there yourself as ${tarball}.`,
    );
  }
  const entry = packed[0];
  const downloaded = entry && join(partial, entry.filename);
  if (!entry || !downloaded || !existsSync(downloaded)) {
    throw new Error(`npm pack ${spec} reported no tarball in ${partial}; run it by hand to see why`);
  }
  const actual = sha512Integrity(downloaded);
  if (actual !== entry.integrity) {
    throw new Error(`the downloaded ${spec} has integrity ${actual} but the registry says ${entry.integrity}: delete ${partial} and run again`);
  }
  renameSync(downloaded, tarball);
  writeFileSync(integrityFile, `${entry.integrity}\n`);
  rmSync(partial, { recursive: true, force: true });
  return tarball;
}

/** Whether `fetchNode` would find the platform's Node executable in the cache (no download, no extraction). */
export function isNodeCached(platform: Platform): boolean {
  const binary = cachedNodeBinary(platform);
  return existsSync(binary) && existsSync(`${binary}.extracted`);
}

/** Path of the platform's Node executable in the cache, downloading and extracting as needed. */
export function fetchNode(platform: Platform): string {
  const binary = cachedNodeBinary(platform);
  const marker = `${binary}.extracted`;
  if (isNodeCached(platform)) return binary;
  const tarball = fetchTarball(platform);
  const packageDir = join(NODE_CACHE_DIR, `${platform.npmPackage}-${NODE_VERSION}`);
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  runTool(
    'tar',
    ['-xzf', tarball, '-C', packageDir, '--strip-components=1', platform.tarballBinary],
    `extract ${platform.tarballBinary} from ${tarball}`,
    'Install tar (Debian: apt-get install tar).',
  );
  if (!existsSync(binary)) throw new Error(`${tarball} holds no ${platform.tarballBinary}; the package layout changed: update packaging/config.ts`);
  const format = detectFormat(readFileSync(binary).subarray(0, 4));
  if (format !== platform.format) {
    throw new Error(`${binary} is ${format ?? 'not an executable'}, expected ${platform.format}: delete ${dirname(binary)} and run again`);
  }
  writeFileSync(marker, `${NODE_VERSION}\n`);
  return binary;
}

if (isMain(import.meta.url)) {
  try {
    const wanted = process.argv.length > 2 ? process.argv.slice(2).map(platformByDir) : PLATFORMS;
    for (const platform of wanted) {
      const binary = fetchNode(platform);
      console.log(`${platform.dir}: ${binary} (${mb(readFileSync(binary).length)})`);
    }
  } catch (error) {
    console.error(`fetch-node: ${(error as Error).message}`);
    process.exit(1);
  }
}
