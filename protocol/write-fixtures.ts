/** Regenerates protocol/fixtures/ from protocol/fixtures.ts: `npm run fixtures`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame } from './frame-codec.js';
import { FIXTURES, toJsonValue } from './fixtures.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
mkdirSync(dir, { recursive: true });
for (const fixture of FIXTURES) writeFileSync(join(dir, `${fixture.name}.bin`), encodeFrame(fixture.value));
const index = FIXTURES.map((f) => ({ name: f.name, direction: f.direction, value: toJsonValue(f.value) }));
writeFileSync(join(dir, 'fixtures.json'), JSON.stringify(index, null, 2) + '\n');
console.log(`wrote ${FIXTURES.length} fixtures to ${dir}`);
