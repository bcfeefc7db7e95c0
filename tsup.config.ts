import { defineConfig } from 'tsup';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// One self-contained CommonJS file: what `node` runs in development and what
// Node's single-executable packaging injects into the platform binaries.
export default defineConfig({
  entry: { sidecar: 'sidecar/main.ts' },
  outDir: 'dist',
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  platform: 'node',
  target: 'node20',
  bundle: true,
  noExternal: [/.*/],
  // msgpackr's native helper cannot live in a single file; msgpackr falls back to pure JS without it.
  external: ['msgpackr-extract'],
  define: { __SIDECAR_VERSION__: JSON.stringify(version) },
  sourcemap: false,
  // No cleaning: the one output file is overwritten, and dist/ also holds the release zip from packaging/.
  clean: false,
  splitting: false,
  minify: false,
  // The addon runs this copy with `node` when no native binary exists for the platform.
  async onSuccess() {
    mkdirSync('godot-addon/addons/websocket_server/bin', { recursive: true });
    copyFileSync('dist/sidecar.cjs', 'godot-addon/addons/websocket_server/bin/sidecar.cjs');
  },
});
