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
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { demoArguments, runDemo, stopOnSignals } from '../host/demo-server.js';
import { platformDir } from '../host/sidecar-locator.js';
import { buildBinaries, describeBuilt, step } from './build-binaries.js';
import { REPO_ROOT, platformByDir } from './config.js';

/** Runs a build tool with its output shown; throws when it fails. */
function run(what: string, file: string, args: string[]): void {
  const result = spawnSync(file, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal}); see above`);
}

function build(): void {
  step('sidecar bundle (tsup)', () => run('tsup', process.execPath, [join(REPO_ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent']));
  const host = platformDir();
  if (host !== 'linux-x64') {
    // The blob is made by running Linux's Node binary (make-blob.ts).
    console.log(`==> no sidecar executable for ${host}: it is built on Linux x64 only; the demo runs the bundle with node`);
    return;
  }
  run('checking the build tools', 'bash', [join(REPO_ROOT, 'packaging', 'install-build-deps.sh'), 'strip', 'tar']);
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
