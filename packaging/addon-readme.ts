/**
 * The `README.md` the release zip puts inside `addons/websocket_server/`:
 * a short preface for someone who just unzipped it (what it is, the Godot
 * version it needs, the platforms, the download size, where the examples
 * are), then the addon's own README (install, Quick Start, API reference),
 * without its closing section on this repository's test suites. One source,
 * `godot-addon/README.md`, so the two never drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SIDECAR_VERSION, mb } from './config.js';

export const ADDON_README_SOURCE = join(REPO_ROOT, 'godot-addon', 'README.md');

/** The source README's section that only makes sense inside the repository. */
const REPOSITORY_ONLY_SECTION = '\n## Tests and checks';

/** Renders the README for a zip of about `downloadBytes`. */
export function renderAddonReadme(downloadBytes: number): string {
  const source = readFileSync(ADDON_README_SOURCE, 'utf8');
  const cut = source.indexOf(REPOSITORY_ONLY_SECTION);
  if (cut < 0) throw new Error(`${ADDON_README_SOURCE} lacks its "${REPOSITORY_ONLY_SECTION.trim()}" heading; update packaging/addon-readme.ts`);
  const [title, ...body] = source.slice(0, cut).trimEnd().split('\n');
  const preface = [
    `Release ${SIDECAR_VERSION}.`,
    '',
    '- Needs **Godot 4.4 or newer**.',
    '- Desktop only: **Linux (x64), Windows (x64) and macOS (Apple silicon and Intel)**. Android, iOS and the Web cannot run the sidecar process.',
    `- Download size about ${mb(downloadBytes)}: each platform's sidecar is a compressed Node.js single executable; an exported game carries only its own platform's one.`,
    '- Installing from this zip: keep `addons/websocket_server/` as it is (including `bin/` and its `.gdignore`), enable the plugin, and open `examples/quick_start.tscn` or `examples/chat_server.tscn` to try it.',
    '- License: MIT, in `LICENSE` next to this file.',
  ];
  return `${title}\n\n${preface.join('\n')}\n${body.join('\n')}\n`;
}
