/**
 * `npm run demo`: builds what the demo runs and nothing else, then serves.
 * That is the sidecar bundle (tsup) and, on Linux x64, this machine's sidecar
 * executable, uncompressed (the Node binary downloaded once and cached, the
 * blob injected); the other platforms and the compressed release are
 * `npm run release`'s job. Elsewhere the demo runs the bundle with node.
 *
 * One node process from build to serving, started by npm without a shell
 * chain in between, so the SIGINT or SIGTERM npm forwards reaches the code
 * that stops the demo, the sidecar and every connection (demo-server.ts).
 *
 * Usage: npm run demo [-- --port 8080 --host 0.0.0.0 --seconds N]   (PORT=... also sets the port)
 */
import { join } from 'node:path';
import { demoArguments, runDemo, stopOnSignals } from '../host/demo-server.js';
import { platformDir } from '../host/sidecar-locator.js';
import { buildBinaries, describeBuilt, step } from './build-binaries.js';
import { REPO_ROOT, buildBundle, platformByDir, runShown } from './config.js';

function build(): void {
  step('sidecar bundle (tsup)', buildBundle);
  const host = platformDir();
  if (host !== 'linux-x64') {
    // The blob is made by running Linux's Node binary (make-blob.ts).
    console.log(`==> no sidecar executable for ${host}: it is built on Linux x64 only; the demo runs the bundle with node`);
    return;
  }
  runShown('checking the build tools', 'bash', [join(REPO_ROOT, 'packaging', 'install-build-deps.sh'), 'strip', 'tar']);
  console.log(describeBuilt(buildBinaries({ platforms: [platformByDir(host)], compress: false })));
}

const options = demoArguments(process.argv.slice(2));
const started = Date.now();
try {
  build();
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  stopOnSignals(await runDemo(options), options.seconds);
} catch (error) {
  console.error(`\nnpm run demo failed: ${(error as Error).message}`);
  process.exit(1);
}
