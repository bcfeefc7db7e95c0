/** The SEA blob: made without snapshot or code cache, so one blob serves every platform. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOB_PATH } from '../../packaging/config.js';
import { SEA_CONFIG_PATH } from '../../packaging/make-blob.js';

// Node's SeaResource header: magic, then flags (src/node_sea.h).
const SEA_MAGIC = 0x0143da20;
const DISABLE_WARNING = 1 << 0;
const USE_SNAPSHOT = 1 << 1;
const USE_CODE_CACHE = 1 << 2;

const built = existsSync(BLOB_PATH) && existsSync(SEA_CONFIG_PATH);
const title = (name: string): string => (built ? name : `${name} (skipped: ${BLOB_PATH} not built; run "npm run build:binaries")`);

describe('SEA blob', () => {
  it.skipIf(!built)(title('is a platform-neutral blob: no snapshot, no code cache, no experimental warning'), () => {
    const config = JSON.parse(readFileSync(SEA_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ useSnapshot: false, useCodeCache: false, disableExperimentalSEAWarning: true });
    const blob = readFileSync(BLOB_PATH);
    expect(blob.readUInt32LE(0)).toBe(SEA_MAGIC);
    const flags = blob.readUInt32LE(4);
    expect(flags & (USE_SNAPSHOT | USE_CODE_CACHE)).toBe(0);
    expect(flags & DISABLE_WARNING).toBe(DISABLE_WARNING);
    // The bundle's path is stored relative, so no build machine path ends up in the binaries.
    expect(blob.includes(Buffer.from('/work/'))).toBe(false);
  });
});
