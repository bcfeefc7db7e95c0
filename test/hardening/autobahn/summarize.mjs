// Summarizes Autobahn|Testsuite report folders: counts of each behavior per case group,
// and every case whose behavior or closing behavior FAILED. Exit code 1 if any did.
//   node summarize.mjs <folder holding reports/**/index.json> ...
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function* indexes(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* indexes(path);
    else if (name === 'index.json') yield path;
  }
}

const cases = new Map();
for (const dir of process.argv.slice(2)) {
  for (const file of indexes(dir)) {
    for (const [agent, results] of Object.entries(JSON.parse(readFileSync(file, 'utf8')))) {
      for (const [id, result] of Object.entries(results)) cases.set(`${agent} ${id}`, { id, ...result });
    }
  }
}
const groups = new Map();
const failed = [];
for (const { id, behavior, behaviorClose } of cases.values()) {
  const group = id.split('.')[0];
  const counts = groups.get(group) ?? {};
  counts[behavior] = (counts[behavior] ?? 0) + 1;
  groups.set(group, counts);
  if (behavior === 'FAILED' || behaviorClose === 'FAILED') failed.push(`${id} (${behavior}, close ${behaviorClose})`);
}
const total = {};
for (const counts of groups.values()) for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
for (const group of [...groups.keys()].sort((a, b) => a - b)) console.log(`case ${group}: ${JSON.stringify(groups.get(group))}`);
console.log(`all ${cases.size} cases: ${JSON.stringify(total)}`);
if (failed.length > 0) console.log(`FAILED: ${failed.join(', ')}`);
process.exit(failed.length > 0 || cases.size === 0 ? 1 : 0);
