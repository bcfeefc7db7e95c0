/**
 * Where a lone message's round trip goes, stage by stage: one `ws` client sends a 64-byte text
 * every millisecond (one in flight), and `stage-hook.cjs`, preloaded into every server process,
 * stamps each socket and pipe read and write with the machine's monotonic clock. Each echo is
 * then followed from stamp to stamp, through the raw `ws` server or through sidecar → host →
 * sidecar. Writes bench/results/latency-stages.md (`--out=` to write elsewhere).
 *
 * The point is the split between process wake-ups (the hops) and our code (the in-process
 * stages), which the latency scenario of `run.ts` can only give as one sum. The hook costs a
 * little on every read and write, so totals run slightly above the untraced figures.
 *
 * Usage: npm run build && tsx bench/latency-stages.ts [--reps=3] [--messages=2000]
 * Bounded: each run sends `messages` messages and waits at most 200 ms for the last echo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { quantiles } from './quantiles.js';
import { stopProcess } from './stop-process.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const HOOK = join(BENCH, 'stage-hook.cjs');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const REPS = Number(args.reps ?? 3);
const MESSAGES = Number(args.messages ?? 2000);
const WARMUP = Math.min(200, Math.floor(MESSAGES / 5));
const OUT = args.out ?? join(BENCH, 'results', 'latency-stages.md');

type Target = 'raw' | 'sidecar';
type Event = [label: string, ns: number];

/** The stamps a message passes, in order, as [process, label, name of the stretch that ends there]. */
const PATHS: Record<Target, Array<[role: string, label: string, stretch: string]>> = {
  raw: [
    ['server', 'tcp.in', 'client → server (TCP hop)'],
    ['server', 'tcp.out', 'server: parse, echo, frame'],
  ],
  sidecar: [
    ['sidecar', 'tcp.in', 'client → sidecar (TCP hop)'],
    ['sidecar', 'pipe.out', 'sidecar: parse, frame for the host'],
    ['host', 'pipe.in', 'sidecar → host (pipe hop)'],
    ['host', 'pipe.out', 'host: decode, handler, encode'],
    ['sidecar', 'pipe.in', 'host → sidecar (pipe hop)'],
    ['sidecar', 'tcp.out', 'sidecar: decode, frame for the client'],
  ],
};

interface Run {
  stretches: Map<string, number[]>;
  totals: number[];
}

function startServer(target: Target, traceDir: string): Promise<{ proc: ChildProcess; port: number }> {
  const script = target === 'raw' ? [join(BENCH, 'servers', 'raw-ws.mjs')] : ['--import', 'tsx', join(BENCH, 'servers', 'sidecar-host.ts')];
  const env = { ...process.env, STAGE_TRACE_DIR: traceDir, BENCH_SIDECAR_NODE_ARGS: `-r ${HOOK}` };
  const proc = spawn(process.execPath, ['-r', HOOK, ...script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${target} server did not print READY within 30 s`)), 30_000);
    proc.once('exit', (code) => reject(new Error(`${target} server exited with ${code} before READY`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY port=(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({ proc, port: Number(m[1]) });
    });
  });
}

/** Sends MESSAGES messages, one per millisecond and one in flight; returns [sent, received] stamps. */
async function drive(port: number): Promise<Array<[number, number]>> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const pairs: Array<[number, number]> = [];
  const payload = 'x'.repeat(64);
  for (let i = 0; i < MESSAGES; i++) {
    await new Promise((r) => setTimeout(r, 1));
    const sent = Number(process.hrtime.bigint());
    const received = await new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 200);
      ws.once('message', () => {
        clearTimeout(timer);
        resolve(Number(process.hrtime.bigint()));
      });
      ws.send(payload);
    });
    if (received === undefined) throw new Error(`message ${i} got no echo within 200 ms`);
    pairs.push([sent, received]);
  }
  ws.close();
  return pairs;
}

/** Index of the first event at or after `t` (events sorted by time). */
function firstAtOrAfter(events: Event[], t: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]![1] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function analyse(target: Target, traces: Event[][], pairs: Array<[number, number]>): Run {
  // The sidecar is the process that read client sockets; in the sidecar target the other is the host.
  const byRole = new Map<string, Event[]>();
  for (const events of traces) {
    const role = target === 'raw' ? 'server' : events.some(([label]) => label === 'tcp.in') ? 'sidecar' : 'host';
    byRole.set(role, events.sort((a, b) => a[1] - b[1]));
  }
  const run: Run = { stretches: new Map(), totals: [] };
  const path = PATHS[target];
  for (const [sent, received] of pairs.slice(WARMUP)) {
    let at = sent;
    const row: number[] = [];
    for (const [role, label] of path) {
      const events = byRole.get(role) ?? [];
      let i = firstAtOrAfter(events, at);
      while (i < events.length && events[i]![0] !== label) i++;
      if (i === events.length || events[i]![1] > received) break;
      row.push(events[i]![1] - at);
      at = events[i]![1];
    }
    if (row.length !== path.length) continue; // a stamp is missing (a stray write): skip this message
    row.push(received - at);
    row.forEach((ns, k) => {
      const name = k < path.length ? path[k]![2] : target === 'raw' ? 'server → client (TCP hop)' : 'sidecar → client (TCP hop)';
      if (!run.stretches.has(name)) run.stretches.set(name, []);
      run.stretches.get(name)!.push(ns / 1000);
    });
    run.totals.push((received - sent) / 1000);
  }
  return run;
}

/** The median as the latency scenario picks it (sorts `values` in place; NaN when empty). */
const median = (values: number[]): number => quantiles(values, 0.5)[0]!;

async function once(target: Target): Promise<Run> {
  const traceDir = mkdtempSync(join(tmpdir(), `stages-${target}-`));
  try {
    const { proc, port } = await startServer(target, traceDir);
    let pairs: Array<[number, number]>;
    try {
      pairs = await drive(port);
    } finally {
      await stopProcess(proc);
    }
    const traces = readdirSync(traceDir).map((f) => JSON.parse(readFileSync(join(traceDir, f), 'utf8')) as Event[]);
    const expected = target === 'raw' ? 1 : 2;
    if (traces.length !== expected) throw new Error(`${target}: expected ${expected} trace files, got ${traces.length}`);
    return analyse(target, traces, pairs);
  } finally {
    rmSync(traceDir, { recursive: true, force: true });
  }
}

const fmt = (us: number): string => us.toFixed(1);

async function main(): Promise<void> {
  const runs: Record<Target, Run[]> = { raw: [], sidecar: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const target of ['raw', 'sidecar'] as Target[]) {
      const run = await once(target);
      runs[target].push(run);
      console.log(`${target} rep ${rep + 1}: p50 ${fmt(median(run.totals))} µs over ${run.totals.length} messages`);
    }
  }
  const lines = [
    '# Where a lone message\'s round trip goes',
    '',
    `${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
    `One \`ws\` client, one 64-byte text in flight, one per millisecond; ${MESSAGES} messages per run, the first ${WARMUP} left out; ${REPS} runs per target, interleaved.`,
    'Each stretch is the p50 over a run of the time between two stamps (socket or pipe read/write, CLOCK_MONOTONIC); figures are the median of the runs\' p50s.',
    'Hops run from one process\'s write to the next process\'s read: kernel, scheduler and wake-up. Stretches inside a process are our code plus Node\'s, from the read to the write.',
    'Command: `tsx bench/latency-stages.ts` (see its header).',
    '',
  ];
  for (const target of ['raw', 'sidecar'] as Target[]) {
    lines.push(`## ${target === 'raw' ? 'raw ws server' : 'sidecar + TypeScript host'}`, '', '| stretch | p50 µs (min–max of runs) |', '|---|---|');
    for (const name of runs[target][0]!.stretches.keys()) {
      const p50s = runs[target].map((r) => median(r.stretches.get(name) ?? []));
      lines.push(`| ${name} | ${fmt(median(p50s))} (${fmt(Math.min(...p50s))}–${fmt(Math.max(...p50s))}) |`);
    }
    const totals = runs[target].map((r) => median(r.totals));
    lines.push(`| **round trip** | **${fmt(median(totals))}** (${fmt(Math.min(...totals))}–${fmt(Math.max(...totals))}) |`, '');
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, lines.join('\n'));
  console.log(`written to ${OUT}`);
}

await main();
