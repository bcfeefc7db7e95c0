/** The release zip: Asset Library layout, compressed binaries only, within 120 MB. */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PLATFORMS, RELEASE_ZIP } from '../../packaging/config.js';
import { MAX_ZIP_BYTES } from '../../packaging/zip.js';

const built = existsSync(RELEASE_ZIP);
const title = (name: string): string => (built ? name : `${name} (skipped: ${RELEASE_ZIP} not built; run "npm run build:binaries")`);

describe('release zip', () => {
  it.skipIf(!built)(title('holds the addon under addons/websocket_server with every platform compressed, no raw binaries'), () => {
    expect(statSync(RELEASE_ZIP).size).toBeLessThanOrEqual(MAX_ZIP_BYTES);
    const listing = spawnSync('unzip', ['-Z1', RELEASE_ZIP], { encoding: 'utf8' });
    expect(listing.status, listing.stderr).toBe(0);
    const files = listing.stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/'));
    expect(files.every((f) => f.startsWith('addons/websocket_server/'))).toBe(true);
    expect(files).toContain('addons/websocket_server/plugin.cfg');
    expect(files).toContain('addons/websocket_server/bin/sidecar.cjs');
    for (const p of PLATFORMS) {
      expect(files).toContain(`addons/websocket_server/bin/${p.dir}/${p.executable}.zst`);
      expect(files).toContain(`addons/websocket_server/bin/${p.dir}/websocket-sidecar.json`);
      expect(files).not.toContain(`addons/websocket_server/bin/${p.dir}/${p.executable}`);
    }
  });
});
