/**
 * Makes the single-executable-application blob from `dist/sidecar.cjs` with
 * the Linux Node binary of the release that every platform binary is made
 * from. Code cache and snapshot are off: both are specific to the V8 build and
 * platform that made them, and with them off one blob serves all four.
 *
 * Usage: tsx packaging/make-blob.ts
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BLOB_PATH, BUNDLE_PATH, NODE_VERSION, REPO_ROOT, SEA_BUILD_DIR, isMain, platformByDir, runTool } from './config.js';
import { fetchNode } from './fetch-node.js';

export const SEA_CONFIG_PATH = join(SEA_BUILD_DIR, 'sea-config.json');

/** Writes the blob and returns its path. */
export function makeBlob(): string {
  if (!existsSync(BUNDLE_PATH)) throw new Error(`the sidecar bundle ${BUNDLE_PATH} does not exist: run "npm run build" first`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the blob is made by running the linux-x64 Node ${NODE_VERSION}, so the binaries can only be built on linux-x64 ` +
        `(this machine is ${process.platform}-${process.arch}); build on Linux x64, e.g. in a Debian container`,
    );
  }
  const node = fetchNode(platformByDir('linux-x64'));
  mkdirSync(SEA_BUILD_DIR, { recursive: true });
  // Relative paths (Node resolves them against the working directory, the
  // repository root): the blob records `main`, and a build machine's folder
  // names have no business inside shipped binaries.
  const config = {
    main: relative(REPO_ROOT, BUNDLE_PATH),
    output: relative(REPO_ROOT, BLOB_PATH),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
  };
  writeFileSync(SEA_CONFIG_PATH, `${JSON.stringify(config, null, 2)}\n`);
  runTool(node, ['--experimental-sea-config', SEA_CONFIG_PATH], 'make the SEA blob', `the cached ${node} is missing: run "tsx packaging/fetch-node.ts linux-x64"`);
  if (!existsSync(BLOB_PATH) || statSync(BLOB_PATH).size === 0) {
    throw new Error(`node --experimental-sea-config reported success but wrote no blob at ${BLOB_PATH}; check ${SEA_CONFIG_PATH}`);
  }
  return BLOB_PATH;
}

if (isMain(import.meta.url)) {
  try {
    const blob = makeBlob();
    console.log(`SEA blob: ${blob} (${statSync(blob).size} bytes)`);
  } catch (error) {
    console.error(`make-blob: ${(error as Error).message}`);
    process.exit(1);
  }
}
