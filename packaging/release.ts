/**
 * `npm run release`: everything a release needs, with progress on stdout
 * because it takes minutes (mostly zstd): the build tools (installed when
 * missing), the sidecar bundle, the four platform executables compressed
 * with their manifests (build-binaries.ts), their hashes pinned in the addon's
 * release.json and copies in dist/release-assets/ (release-pin.ts), and the zip for the Asset
 * Library and the project's releases page (zip.ts), whose size and each
 * platform's share it prints last.
 *
 * Usage: npm run release [-- --force]   (--force rebuilds and recompresses everything)
 */
import { join } from 'node:path';
import { buildBinaries, describeBuilt, step } from './build-binaries.js';
import { REPO_ROOT, buildBundle, runShown } from './config.js';
import { writeReleasePin } from './release-pin.js';
import { describeZip, makeReleaseZip } from './zip.js';

const started = Date.now();
try {
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--force');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}: the only option is --force`);
  runShown('installing the build tools', 'bash', [join(REPO_ROOT, 'packaging', 'install-build-deps.sh')]);
  step('sidecar bundle (tsup)', buildBundle);
  const built = buildBinaries({ force: process.argv.includes('--force'), compress: true });
  step('release.json (pinned hashes) and dist/release-assets/', () => writeReleasePin(), (pinned) => `${Object.values(pinned).flat().length} files`);
  const zip = step('release zip', () => makeReleaseZip(), (made) => `${made.files.length} files`);
  console.log(`\n${describeBuilt(built)}\n${describeZip(zip)}`);
  console.log(`release built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  console.error(`\nnpm run release failed: ${(error as Error).message}`);
  process.exit(1);
}
