/**
 * The three Godot servers side by side: native Godot (TCPServer + WebSocketPeer), Godot + the
 * addon, and the seed GDExtension (target "seed", present when the run had SEED_GDEXT).
 *
 * `npx tsx bench/trio-report.ts [results.json]` prints the table of a finished run
 * (default: bench/results/raw/results.json); bench/run.ts appends it to results.md itself.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cell, extraOf, num, pairedRatio, stat, value, values, type Getter, type Report } from './report.js';

interface TrioRow {
  id: string;
  title: string;
  metric: string;
  get: Getter;
  /** true when a smaller figure is better */
  lower?: boolean;
}

/** Main-thread time per round trip: time per frame × frames per second ÷ round trips per second. */
const perMessage: Getter = (s) => (s.extra?.frame_us !== undefined && s.extra.fps !== undefined ? (s.extra.frame_us * s.extra.fps) / s.value : undefined);

const TRIO_ROWS: TrioRow[] = [
  { id: 'echo1', title: 'Echo 64 B text, 1 client × 8 in flight', metric: 'round trips/s', get: value },
  { id: 'echo100', title: 'Echo 64 B text, 100 clients × 8 in flight', metric: 'round trips/s', get: value },
  { id: 'echo100', title: 'Main-thread time per frame while echoing, 100 clients', metric: 'µs/frame', get: extraOf('frame_us'), lower: true },
  { id: 'echo100', title: 'Frames per second while echoing, 100 clients', metric: 'fps', get: extraOf('fps') },
  { id: 'echo100', title: 'Main-thread time per echoed message, 100 clients (µs/frame × fps ÷ round trips/s)', metric: 'µs/message', get: perMessage, lower: true },
  { id: 'echo1000', title: 'Echo 64 B text, 1,000 clients × 2 in flight', metric: 'round trips/s', get: value },
  { id: 'binary', title: 'Echo 64 KiB binary, 10 clients × 2 in flight', metric: 'MB/s (one way)', get: value },
  { id: 'broadcast', title: 'Broadcast 1 KiB to 1,000 clients (rounds of 10, 2 in flight)', metric: 'deliveries/s', get: value },
  { id: 'frame-idle', title: 'Main-thread time per frame, 1,000 idle clients', metric: 'µs/frame', get: value, lower: true },
  { id: 'storm', title: 'Connect burst: 1,000 at once, until all open and announced', metric: 'ms', get: value, lower: true },
  { id: 'storm', title: 'Connect burst: clients open when it ended (of 1,000)', metric: 'clients', get: extraOf('opened') },
  { id: 'startup', title: 'Start-up: start() to listening', metric: 'ms', get: value, lower: true },
];

/** Like report.ts's ratio cells, with two significant digits below 0.1 (the seed's idle frame is 1/500 of native's). */
function ratioCell(s: ReturnType<typeof pairedRatio>): string {
  if (s === undefined) return '—';
  const f = (v: number): string => (Math.abs(v) < 0.1 ? v.toPrecision(2) : num(v));
  return s.n > 1 ? `${f(s.median)}× (${f(s.min)}–${f(s.max)})` : `${f(s.median)}×`;
}

/** "yes" when the candidate's median ratio to the baseline is on the better side of 1. */
function ahead(ratio: ReturnType<typeof pairedRatio>, lower: boolean | undefined): string {
  if (ratio === undefined) return '—';
  return (lower ? ratio.median < 1 : ratio.median > 1) ? 'yes' : '**no**';
}

function loadRange(r: Report, id: string): string {
  const loads = ['godot-native', 'godot-addon', 'seed'].flatMap((t) => values(r, id, t, extraOf('load1'))).filter(Number.isFinite);
  if (loads.length === 0) return '—';
  return `${num(Math.min(...loads))}–${num(Math.max(...loads))}`;
}

/** Markdown: one row per figure, the three servers' medians (min–max) and their paired ratios. */
export function renderGodotTrio(r: Report): string {
  const lines: string[] = [];
  lines.push('## Three Godot servers side by side: native, addon, seed GDExtension', '');
  lines.push(
    `${r.date}, ${r.mode} run, Godot ${r.godot ?? '(unset)'}, ${r.machine}. Median (min–max) over repetitions; ratios are medians of per-repetition ratios; ` +
      '"ahead" compares medians of those ratios with 1 (for ms and µs/frame smaller is ahead); load is the 1-minute load average when each repetition ended.',
    '',
  );
  const head = ['Scenario', 'Metric', 'Godot native', 'Godot + addon', 'seed GDExtension', 'seed / native', 'seed ahead of native', 'addon / seed', 'addon ahead of seed', 'load (1 min)'];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const row of TRIO_ROWS) {
    const [native, addon, seed] = ['godot-native', 'godot-addon', 'seed'].map((t) => cell(stat(values(r, row.id, t, row.get))));
    if (native === '—' && addon === '—' && seed === '—') continue;
    const seedVsNative = pairedRatio(r, row.id, 'seed', 'godot-native', row.get);
    const addonVsSeed = pairedRatio(r, row.id, 'godot-addon', 'seed', row.get);
    const c = [row.title, row.metric, native!, addon!, seed!, ratioCell(seedVsNative), ahead(seedVsNative, row.lower), ratioCell(addonVsSeed), ahead(addonVsSeed, row.lower), loadRange(r, row.id)];
    lines.push(`| ${c.join(' | ')} |`);
  }
  const errors = r.samples.filter((s) => s.error && s.target === 'seed');
  if (errors.length > 0) {
    lines.push('', 'Failed seed repetitions:', '');
    for (const e of errors) lines.push(`- ${e.scenario}, rep ${e.rep + 1}: ${e.error}`);
  }
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results/raw/results.json', import.meta.url));
  process.stdout.write(renderGodotTrio(JSON.parse(readFileSync(file, 'utf8')) as Report));
}
