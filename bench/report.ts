/** Turns bench samples into the markdown table and the hand-written SVG chart of bench/results/. */

export interface Sample {
  scenario: string;
  target: string;
  rep: number;
  value: number;
  extra?: Record<string, number>;
  error?: string;
}

export interface Report {
  date: string;
  mode: string;
  reps: number;
  node: string;
  godot: string | null;
  machine: string;
  scenarios: Array<{ id: string; title: string; metric: string }>;
  samples: Sample[];
}

interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stat(values: number[]): Stat | undefined {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

export type Getter = (s: Sample) => number | undefined;
export const value: Getter = (s) => s.value;
export const extraOf = (key: string): Getter => (s) => s.extra?.[key];

export function values(r: Report, scenario: string, target: string, get: Getter): number[] {
  return r.samples.filter((s) => s.scenario === scenario && s.target === target).map((s) => get(s) ?? NaN);
}

/** Median of per-repetition ratios target/baseline (repetitions are interleaved, so pairs share the machine's mood). */
export function pairedRatio(r: Report, scenario: string, target: string, baseline: string, get: Getter): Stat | undefined {
  const ratios: number[] = [];
  const base = r.samples.filter((s) => s.scenario === scenario && s.target === baseline);
  for (const b of base) {
    const t = r.samples.find((s) => s.scenario === scenario && s.target === target && s.rep === b.rep);
    const tv = t && get(t);
    const bv = get(b);
    if (tv !== undefined && bv !== undefined && Number.isFinite(tv) && Number.isFinite(bv) && bv !== 0) ratios.push(tv / bv);
  }
  return stat(ratios);
}

function pairedDiff(r: Report, scenario: string, target: string, baseline: string, get: Getter): Stat | undefined {
  const diffs: number[] = [];
  for (const b of r.samples.filter((s) => s.scenario === scenario && s.target === baseline)) {
    const t = r.samples.find((s) => s.scenario === scenario && s.target === target && s.rep === b.rep);
    const tv = t && get(t);
    const bv = get(b);
    if (tv !== undefined && bv !== undefined && Number.isFinite(tv) && Number.isFinite(bv)) diffs.push(tv - bv);
  }
  return stat(diffs);
}

export function num(v: number): string {
  const a = Math.abs(v);
  if (a >= 10000) return Math.round(v).toLocaleString('en');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function cell(s: Stat | undefined): string {
  if (s === undefined) return '—';
  return s.n > 1 ? `${num(s.median)} (${num(s.min)}–${num(s.max)})` : num(s.median);
}

export function ratioCell(s: Stat | undefined): string {
  if (s === undefined) return '—';
  return s.n > 1 ? `${num(s.median)}× (${num(s.min)}–${num(s.max)})` : `${num(s.median)}×`;
}

interface Row {
  id: string;
  title: string;
  metric: string;
  get: Getter;
  /** true when a smaller figure is better */
  lower?: boolean;
}

function rows(r: Report): Row[] {
  const out: Row[] = [];
  for (const s of r.scenarios) {
    const lower = ['idle', 'storm', 'latency', 'frame-idle', 'startup'].includes(s.id);
    out.push({ id: s.id, title: s.title, metric: s.metric, get: value, lower });
    if (s.id === 'latency') {
      out.push({ id: 'latency', title: 'Latency, 100 clients × 20 msg/s', metric: 'p99 µs', get: extraOf('p99_us'), lower: true });
      out.push({ id: 'latency', title: 'Main-thread time per frame, 100 busy clients (20 msg/s each)', metric: 'µs/frame', get: extraOf('frame_us'), lower: true });
      out.push({ id: 'latency', title: 'Two bare pipe hops between Node processes, 2,000 msg/s (floor of the sidecar\'s added latency)', metric: 'p50 µs', get: extraOf('pipe_p50_us'), lower: true });
    }
    if (s.id === 'idle') out.push({ id: 'idle', title: 'Server RSS before any client', metric: 'MB', get: extraOf('rss_before_mb'), lower: true });
    if (s.id === 'echo100') {
      out.push({ id: 'echo100', title: 'Main-thread time per frame while echoing flat out, 100 clients', metric: 'µs/frame', get: extraOf('frame_us'), lower: true });
      out.push({ id: 'echo100', title: 'Frames per second while echoing flat out, 100 clients', metric: 'fps', get: extraOf('fps') });
    }
    if (s.id === 'storm') out.push({ id: 'storm', title: 'Connect storm: clients open when the storm ended (of 1,000)', metric: 'clients', get: extraOf('opened') });
  }
  return out;
}

interface Verdict {
  target: string;
  figure: string;
  held: boolean | undefined;
}

/**
 * Both Godot targets answer each message in the frame after it arrived. When both run at the same
 * frame rate and answer about the whole window every frame, the figure is set by the frame rate,
 * not by either server: say so beside the ratio.
 */
function frameBound(r: Report, id: string): string {
  const [native, addon] = ['godot-native', 'godot-addon'].map((target) => {
    const fps = stat(values(r, id, target, extraOf('fps')));
    const rate = stat(values(r, id, target, value));
    return fps && rate ? { fps: fps.median, perFrame: rate.median / fps.median } : undefined;
  });
  if (!native || !addon || Math.abs(native.perFrame - addon.perFrame) > 0.05 * native.perFrame) return '';
  return ` (frame-bound: both answer ${num(native.perFrame)} round trips per frame at ${num(native.fps)} fps)`;
}

export function verdicts(r: Report): Verdict[] {
  const v: Verdict[] = [];
  for (const id of ['echo1', 'echo100', 'echo1000']) {
    const s = pairedRatio(r, id, 'sidecar', 'raw', value);
    v.push({ target: `sidecar + TS host ≥ 70 % of raw ws echo (${id})`, figure: s ? `${(s.median * 100).toFixed(0)} %` : '—', held: s && s.median >= 0.7 });
  }
  const d = pairedDiff(r, 'latency', 'sidecar', 'raw', value);
  const floor = stat(values(r, 'latency', 'sidecar', extraOf('pipe_p50_us')).filter(Number.isFinite));
  const floorNote = floor ? `; two bare pipe hops alone: ${num(floor.median)} µs (${num(floor.min)}–${num(floor.max)})` : '';
  v.push({ target: 'sidecar adds ≤ 100 µs to p50 latency', figure: d ? `+${num(d.median)} µs (${num(d.min)}–${num(d.max)})${floorNote}` : '—', held: d && d.median <= 100 });
  const m = pairedRatio(r, 'idle', 'sidecar', 'raw', value);
  v.push({ target: 'idle connections: sidecar RSS ≤ 1.2× raw ws', figure: m ? `${num(m.median)}×` : '—', held: m && m.median <= 1.2 });
  if (r.godot) {
    for (const id of ['echo1', 'echo100', 'echo1000']) {
      const s = pairedRatio(r, id, 'godot-addon', 'godot-native', value);
      v.push({ target: `addon ≥ 1.5× native Godot echo (${id})`, figure: s ? `${num(s.median)}×${frameBound(r, id)}` : '—', held: s && s.median >= 1.5 });
    }
    const b = pairedRatio(r, 'broadcast', 'godot-addon', 'godot-native', value);
    v.push({ target: 'addon ≥ 10× native Godot broadcast deliveries/s', figure: b ? `${num(b.median)}×` : '—', held: b && b.median >= 10 });
    const f = pairedRatio(r, 'frame-idle', 'godot-addon', 'godot-native', value);
    v.push({ target: 'addon ≤ 1/20 of native main-thread time per frame, 1,000 idle', figure: f ? `1/${num(1 / f.median)}` : '—', held: f && f.median <= 1 / 20 });
  }
  return v;
}

export function renderMarkdown(r: Report): string {
  const godot = r.godot !== null;
  const before = r.samples.some((s) => s.target === 'sidecar-before');
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(`${r.date}, ${r.mode} run, ${r.reps} repetition(s) per scenario (fewer where noted by n), Node ${r.node}, ${r.machine}${godot ? `, Godot ${r.godot}` : ', no Godot (GODOT unset)'}.`);
  lines.push('Figures: median (min–max) over repetitions. Ratios: median of per-repetition ratios, repetitions interleaved so both sides share the machine\'s load. Command: `npm run bench`.', '');
  const head = ['Scenario', 'Metric', 'raw ws', 'sidecar + TS host', 'sidecar / raw'];
  if (before) head.push('sidecar before', 'after / before');
  if (godot) head.push('Godot native', 'Godot + addon', 'addon / native');
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const row of rows(r)) {
    const c = [row.title, row.metric, cell(stat(values(r, row.id, 'raw', row.get))), cell(stat(values(r, row.id, 'sidecar', row.get))), ratioCell(pairedRatio(r, row.id, 'sidecar', 'raw', row.get))];
    if (before) c.push(cell(stat(values(r, row.id, 'sidecar-before', row.get))), ratioCell(pairedRatio(r, row.id, 'sidecar', 'sidecar-before', row.get)));
    if (godot) c.push(cell(stat(values(r, row.id, 'godot-native', row.get))), cell(stat(values(r, row.id, 'godot-addon', row.get))), ratioCell(pairedRatio(r, row.id, 'godot-addon', 'godot-native', row.get)));
    if (c.slice(2).every((x) => x === '—')) continue;
    lines.push(`| ${c.join(' | ')} |`);
  }
  lines.push('', '## Targets', '', '| Target | Figure | Held |', '|---|---|---|');
  for (const v of verdicts(r)) lines.push(`| ${v.target} | ${v.figure} | ${v.held === undefined ? 'not measured' : v.held ? 'yes' : '**no**'} |`);
  const errors = r.samples.filter((s) => s.error);
  if (errors.length > 0) {
    lines.push('', '## Failed repetitions', '');
    for (const e of errors) lines.push(`- ${e.scenario}, ${e.target}, rep ${e.rep + 1}: ${e.error}`);
  }
  lines.push('');
  return lines.join('\n');
}

/** Bars of "how the candidate compares with its baseline", 1 = parity, right = better, log scale. */
export function renderSvg(r: Report): string {
  const bars: Array<{ label: string; group: string; ratio: number; target?: number }> = [];
  const targetFor: Record<string, number> = { echo1: 0.7, echo100: 0.7, echo1000: 0.7, idle: 1 / 1.2 };
  const godotTarget: Record<string, number> = { echo1: 1.5, echo100: 1.5, echo1000: 1.5, broadcast: 10, 'frame-idle': 20 };
  for (const row of rows(r)) {
    if (row.metric === 'MB' || row.metric === 'p99 µs') continue;
    const label = `${row.title} (${row.metric})`;
    const s = pairedRatio(r, row.id, 'sidecar', 'raw', row.get);
    if (s) bars.push({ label, group: 'sidecar vs raw ws', ratio: row.lower ? 1 / s.median : s.median, target: row.get === value ? targetFor[row.id] : undefined });
    const g = pairedRatio(r, row.id, 'godot-addon', 'godot-native', row.get);
    if (g) bars.push({ label, group: 'addon vs native Godot', ratio: row.lower ? 1 / g.median : g.median, target: row.get === value ? godotTarget[row.id] : undefined });
  }
  const W = 980;
  const left = 430;
  const right = 60;
  const barH = 16;
  const gap = 6;
  const top = 60;
  const H = top + bars.length * (barH + gap) + 50;
  const lo = Math.log10(0.01);
  const hi = Math.log10(100);
  const x = (v: number): number => left + ((Math.log10(Math.min(100, Math.max(0.01, v))) - lo) / (hi - lo)) * (W - left - right);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">Relative performance, ${esc(r.date.slice(0, 10))} (${r.mode} run): 1× = as good as the baseline, right = better (log scale)</text>`);
  out.push(`<text x="10" y="38" fill="#555">Blue: sidecar + TS host vs raw ws. Orange: Godot + addon vs native Godot (TCPServer + WebSocketPeer). Black tick: target. For times and memory the ratio is baseline / candidate.</text>`);
  for (const t of [0.01, 0.1, 0.5, 1, 2, 10, 100]) {
    out.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${H - 40}" stroke="${t === 1 ? '#333' : '#ddd'}"/>`);
    out.push(`<text x="${x(t)}" y="${H - 25}" text-anchor="middle">${t}×</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    const color = b.group.startsWith('sidecar') ? '#3b78c4' : '#e08a2c';
    out.push(`<text x="${left - 8}" y="${y + 12}" text-anchor="end">${esc(b.label.length > 68 ? b.label.slice(0, 66) + '…' : b.label)}</text>`);
    const x0 = x(1);
    const x1 = x(b.ratio);
    out.push(`<rect x="${Math.min(x0, x1)}" y="${y}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${barH}" fill="${color}"/>`);
    out.push(`<text x="${Math.max(x0, x1) + 4}" y="${y + 12}" fill="#222">${num(b.ratio)}×</text>`);
    if (b.target !== undefined) out.push(`<line x1="${x(b.target)}" y1="${y - 2}" x2="${x(b.target)}" y2="${y + barH + 2}" stroke="#000" stroke-width="2"/>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
