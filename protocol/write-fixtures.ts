/**
 * Writes every generated file (see protocol/generated-files.ts): `npm run fixtures`.
 * Run it after changing protocol/fixtures.ts, protocol/constants.ts or protocol/start-options.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './generated-files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const files = generatedFiles(root);
for (const file of files) {
  mkdirSync(dirname(join(root, file.path)), { recursive: true });
  writeFileSync(join(root, file.path), file.content);
}
console.log(`wrote ${files.length} generated files under ${root}`);
