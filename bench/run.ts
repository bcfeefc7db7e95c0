/**
 * The benchmark runner: `npm run bench` (full, under ~10 minutes) or `npm run bench -- --quick`
 * (CI smoke, about a minute). Options: --only=echo1,echo100,... --reps=N --targets=godot-native,seed,...
 *
 * Every figure is compared with a baseline measured in the same run, repetitions interleaved
 * (raw ws, sidecar, then the Godot targets when GODOT is set), so machine noise hits both
 * sides alike. Writes bench/results/results.md, results.json and chart.svg; logs go to
 * bench/results/raw/ (gitignored).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, createWriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurePipeFloor } from './pipe-floor.js';
import { stopProcess } from './stop-process.js';
import { renderMarkdown, renderSvg, type Report, type Sample } from './report.js';
import { freePort, prepareSeedProject, resolveSeedExtension, SEED_SKIPPED } from './seed-project.js';
import { renderGodotTrio } from './trio-report.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, '..');
const RESULTS = join(BENCH, 'results');
const RAW = join(RESULTS, 'raw');
mkdirSync(RAW, { recursive: true });

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const repsArg = args.find((a) => a.startsWith('--reps='));
const GODOT = process.env.GODOT && existsSync(process.env.GODOT) ? process.env.GODOT : undefined;
/** SEED_GDEXT: the seed GDExtension (its .gdextension file or folder), built outside the repository: adds the "seed" target. */
const SEED = resolveSeedExtension(process.env.SEED_GDEXT);
const onlyTargets = args.find((a) => a.startsWith('--targets='))?.slice(10).split(',');
// Five repetitions for raw ws and the sidecar; three when the Godot targets double the run.
const REPS = repsArg ? Number(repsArg.slice(7)) : quick ? 1 : GODOT ? 3 : 5;
// The seed accepts one connection per 50 ms, so each of its 1,000-client runs spends about a minute connecting.
const RUN_DEADLINE = Date.now() + (quick ? 4 : GODOT && SEED ? 45 : 20) * 60_000;

type Target = 'raw' | 'sidecar' | 'sidecar-before' | 'godot-native' | 'godot-addon' | 'seed';
/** BENCH_BEFORE_BUNDLE: a sidecar bundle built from an older revision, run as target "sidecar-before" (A/B of an optimization). */
const BEFORE_BUNDLE = process.env.BENCH_BEFORE_BUNDLE && existsSync(process.env.BENCH_BEFORE_BUNDLE) ? resolve(process.env.BENCH_BEFORE_BUNDLE) : undefined;
/**
 * The sidecar under test, copied once at the start: dist/ may be rebuilt (and briefly missing)
 * while the run goes on, as other work shares the tree.
 */
const SIDECAR_BUNDLE = (() => {
  if (process.env.BENCH_AFTER_BUNDLE) return resolve(process.env.BENCH_AFTER_BUNDLE);
  const copy = join(RAW, 'sidecar-under-test.cjs');
  cpSync(join(ROOT, 'dist', 'sidecar.cjs'), copy);
  return copy;
})();

const TARGETS: Target[] = ([
  'raw',
  'sidecar',
  ...(BEFORE_BUNDLE ? (['sidecar-before'] as Target[]) : []),
  ...(GODOT ? (['godot-native', 'godot-addon'] as Target[]) : []),
  ...(GODOT && SEED ? (['seed'] as Target[]) : []),
] as Target[]).filter((t) => onlyTargets === undefined || onlyTargets.includes(t));
/** BENCH_SERVER_NODE_ARGS: extra node flags for the raw ws server and the TS host process (e.g. --cpu-prof). */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const GODOT_TARGETS = new Set<Target>(['godot-native', 'godot-addon', 'seed']);
/** The seed accepts one connection per 50 ms loop: 1,000 clients take about 50 s to connect. */
const SEED_CONNECT = { connectTimeoutMs: 120_000 };

const dur = quick ? { warmupMs: 300, durationMs: 1000 } : { warmupMs: 500, durationMs: 2000 };

interface Scenario {
  id: string;
  title: string;
  metric: string;
  job: Record<string, unknown>;
  /** which figure of the job result is the scenario's value */
  pick: (r: Record<string, unknown>, server: RunningServer) => number;
  extra?: (r: Record<string, unknown>, server: RunningServer) => Record<string, number>;
  reps?: number;
  targets?: Target[];
  /** extra arguments for the Godot bench project (after --) */
  godotArgs?: string[];
  /** per target overrides of the job */
  perTarget?: Partial<Record<Target, Record<string, unknown>>>;
  /** a measurement taken right after the job (server stopped), added to the sample's extra figures */
  after?: (target: Target) => Promise<Record<string, number>>;
}

const IDLE_CLIENTS = quick ? 2000 : 10_000;

/** Echo of 64-byte text messages: `clients` × `window` in flight, round trips per second. */
function textEcho(id: string, clients: number, window: number, job: Record<string, unknown> = {}, extra?: Scenario['extra']): Scenario {
  return {
    id,
    title: `Echo 64 B text, ${clients.toLocaleString('en')} client${clients === 1 ? '' : 's'} × ${window} in flight`,
    metric: 'round trips/s',
    job: { kind: 'echo', clients, window, size: 64, ...job, ...dur },
    pick: (r) => r.msgs_per_s as number,
    extra,
  };
}

/** Godot targets: main-thread time per frame and frame rate over the measured window. */
function frameFigures(r: Record<string, unknown>): Record<string, number> {
  const f = r.frame as { avg_us?: number; fps?: number } | undefined;
  return f?.avg_us !== undefined ? { frame_us: f.avg_us, fps: f.fps ?? NaN } : {};
}

const SCENARIOS: Scenario[] = [
  // Godot targets: the frame rate shows when both sides answer once per frame (echo1), and
  // where the main thread's time goes while echoing flat out (echo100).
  textEcho('echo1', 1, 8, { frameTime: true }, frameFigures),
  textEcho('echo100', 100, 8, { frameTime: true }, frameFigures),
  { ...textEcho('echo1000', 1000, 2), perTarget: { seed: SEED_CONNECT } },
  { id: 'binary', title: 'Echo 64 KiB binary, 10 clients × 2 in flight', metric: 'MB/s (one way)', job: { kind: 'echo', clients: 10, window: 2, size: 65536, binary: true, ...dur }, pick: (r) => r.mb_per_s as number, godotArgs: ['--buffer-kib=160'] },
  { id: 'broadcast', title: 'Broadcast 1 KiB to 1,000 clients (rounds of 10, 2 in flight)', metric: 'deliveries/s', job: { kind: 'broadcast', clients: 1000, batch: 10, window: 2, size: 1024, ...dur }, pick: (r) => r.deliveries_per_s as number, extra: (r) => ({ rounds: r.rounds as number }), perTarget: { seed: SEED_CONNECT } },
  {
    id: 'idle',
    title: `${IDLE_CLIENTS.toLocaleString('en')} idle connections`,
    metric: 'server RSS MB',
    job: { kind: 'idle', clients: IDLE_CLIENTS, holdMs: 2500 },
    pick: (_r, s) => s.rssLoadedMb ?? NaN,
    extra: (r, s) => ({ rss_before_mb: s.rssBeforeMb ?? NaN, connect_s: r.connect_s as number }),
    reps: quick ? 1 : 3,
    targets: ['raw', 'sidecar', 'sidecar-before', 'godot-addon'],
  },
  {
    id: 'storm',
    title: 'Connect storm: 1,000 at once, until all open and announced',
    metric: 'ms',
    job: { kind: 'storm', clients: 1000, connectTimeoutMs: 60_000 },
    // TCPServer's backlog of 8 drops most of a 1,000-connection burst; give up after 20 s.
    // The seed's backlog is 5; it gets the same 20 s.
    perTarget: { 'godot-native': { connectTimeoutMs: 20_000 }, seed: { connectTimeoutMs: 20_000 } },
    pick: (r) => r.total_ms as number,
    extra: (r) => ({ opened: r.opened as number, all_open_ms: r.all_open_ms as number }),
    reps: quick ? 1 : 3,
  },
  {
    id: 'latency',
    title: 'Latency, 100 clients × 20 msg/s',
    metric: 'p50 µs',
    job: { kind: 'latency', clients: 100, rate: 20, size: 64, warmupMs: 1000, durationMs: quick ? 2000 : 4000, frameTime: true },
    pick: (r) => r.p50_us as number,
    extra: (r) => ({ p99_us: r.p99_us as number, samples: r.samples as number, ...frameFigures(r) }),
    // The floor of the sidecar's two extra hops, measured in the same repetition.
    after: async (target): Promise<Record<string, number>> => {
      if (target !== 'sidecar') return {};
      const floor = await measurePipeFloor(100 * 20, quick ? 2000 : 4000);
      return { pipe_p50_us: floor.p50_us, pipe_p99_us: floor.p99_us };
    },
  },
  {
    id: 'frame-idle',
    title: 'Main-thread time per frame, 1,000 idle clients',
    metric: 'µs/frame',
    job: { kind: 'idle', clients: 1000, frameTime: true, durationMs: quick ? 1500 : 3000 },
    pick: (r) => frameFigures(r).frame_us ?? NaN,
    reps: quick ? 1 : 3,
    targets: ['godot-native', 'godot-addon', 'seed'],
    perTarget: { seed: SEED_CONNECT },
  },
];

// ---- processes --------------------------------------------------------------

interface RunningServer {
  target: Target;
  proc: ChildProcess;
  port: number;
  startupUs: number;
  rssPids: number[];
  rssBeforeMb?: number;
  rssLoadedMb?: number;
}

const started = new Set<ChildProcess>();
let godotAddonProject: string | undefined;
let seedProject: string | undefined;

function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

function prepareAddonProject(): string {
  const dir = join(RAW, 'godot-addon-project');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'addons'), { recursive: true });
  for (const f of ['project.godot', 'main.tscn', 'main.gd', 'native_server.gd']) cpSync(join(BENCH, 'godot', f), join(dir, f));
  symlinkSync(join(ROOT, 'godot-addon', 'addons', 'websocket_server'), join(dir, 'addons', 'websocket_server'));
  // An export-template engine does not scan scripts: global class_names come only from this cache.
  execFileSync('bash', [join(ROOT, 'godot-addon', 'write-class-cache.sh'), dir], { stdio: 'inherit' });
  return dir;
}

/** The native project needs no global classes, but the template engine complains without a cache. */
function prepareNativeProject(): void {
  mkdirSync(join(BENCH, 'godot', '.godot'), { recursive: true });
  const cache = join(BENCH, 'godot', '.godot', 'global_script_class_cache.cfg');
  if (!existsSync(cache)) writeFileSync(cache, 'list=[]\n');
}

function serverCommand(target: Target, godotArgs: string[] = []): [string, string[]] {
  switch (target) {
    case 'raw':
      return [process.execPath, [...SERVER_NODE_ARGS, join(BENCH, 'servers', 'raw-ws.mjs')]];
    case 'sidecar':
    case 'sidecar-before':
      return [process.execPath, [...SERVER_NODE_ARGS, '--import', 'tsx', join(BENCH, 'servers', 'sidecar-host.ts')]];
    case 'godot-native':
      prepareNativeProject();
      return [GODOT!, ['--headless', '--path', join(BENCH, 'godot'), '--', '--mode=native', ...godotArgs]];
    case 'godot-addon':
      godotAddonProject ??= prepareAddonProject();
      return [GODOT!, ['--headless', '--path', godotAddonProject, '--', '--mode=addon', `--sidecar=${SIDECAR_BUNDLE}`, ...godotArgs]];
    case 'seed':
      seedProject ??= prepareSeedProject(join(BENCH, 'godot'), SEED!);
      return [GODOT!, ['--headless', '--path', seedProject, '--', '--mode=seed', ...godotArgs]];
  }
}

async function startServer(target: Target, godotArgs?: string[]): Promise<RunningServer> {
  const [file, argv] = serverCommand(target, target === 'seed' ? [...(godotArgs ?? []), `--port=${await freePort()}`] : godotArgs);
  // BENCH_AFTER_BUNDLE pins the "sidecar" target to a given bundle too (A/B runs while dist/ changes).
  const env =
    target === 'sidecar-before'
      ? { ...process.env, BENCH_SIDECAR_BUNDLE: BEFORE_BUNDLE }
      : target === 'sidecar'
        ? { ...process.env, BENCH_SIDECAR_BUNDLE: SIDECAR_BUNDLE }
        : process.env;
  const proc = spawn(file, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env });
  started.add(proc);
  const log = createWriteStream(join(RAW, `${target}.log`), { flags: 'a' });
  proc.stderr!.pipe(log);
  return new Promise((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => fail(`${target} did not print READY within 30 s`), 30_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${why} (see ${join(RAW, `${target}.log`)})`));
    };
    proc.once('exit', (code) => fail(`${target} exited with ${code} before READY`));
    proc.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffer += chunk.toString();
      const m = /READY port=(\d+) startup_us=(\d+) rss_pids=([\d,]+)/.exec(buffer);
      if (m === null) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.stdout!.removeAllListeners('data');
      proc.stdout!.on('data', (c: Buffer) => log.write(c));
      resolvePromise({ target, proc, port: Number(m[1]), startupUs: Number(m[2]), rssPids: m[3]!.split(',').map(Number) });
    });
  });
}

async function stopServer(server: RunningServer): Promise<void> {
  const proc = server.proc;
  if (proc.exitCode !== null || proc.signalCode !== null) return void started.delete(proc);
  await stopProcess(proc);
  started.delete(proc);
  // Godot does not pass SIGTERM on to the addon's sidecar; it sees EOF and leaves within a second.
  await new Promise((r) => setTimeout(r, GODOT_TARGETS.has(server.target) ? 300 : 50));
}

let loadgen: ChildProcess | undefined;
function getLoadgen(): ChildProcess {
  if (loadgen !== undefined && loadgen.connected) return loadgen;
  loadgen = fork(join(BENCH, 'loadgen.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return loadgen;
}

function runJob(job: Record<string, unknown>, onHolding?: () => void): Promise<Record<string, unknown>> {
  const lg = getLoadgen();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      lg.kill('SIGKILL');
      reject(new Error(`load generator did not answer within 200 s`));
    }, 200_000);
    const onMessage = (m: { type: string; result?: Record<string, unknown>; error?: string }): void => {
      if (m.type === 'holding') return onHolding?.();
      clearTimeout(timer);
      lg.off('message', onMessage);
      lg.off('exit', onExit);
      if (m.type === 'result') resolvePromise(m.result!);
      else reject(new Error(m.error));
    };
    const onExit = (): void => {
      clearTimeout(timer);
      reject(new Error('load generator exited'));
    };
    lg.on('message', onMessage);
    lg.once('exit', onExit);
    lg.send(job);
  });
}

// ---- main -------------------------------------------------------------------

const samples: Sample[] = [];
const loadAtStart = (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');
const started_at = new Date();
process.on('exit', () => {
  for (const p of started) p.kill('SIGKILL');
  loadgen?.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

const startCount: Partial<Record<Target, number>> = {};

async function runOne(scenario: Scenario, target: Target, rep: number): Promise<void> {
  let server: RunningServer;
  try {
    server = await startServer(target, scenario.godotArgs);
  } catch (error) {
    samples.push({ scenario: scenario.id, target, rep, value: NaN, error: (error as Error).message });
    console.log(`  ${scenario.id.padEnd(10)} ${target.padEnd(13)} rep ${rep + 1}: FAILED ${(error as Error).message}`);
    return;
  }
  // Every server start is a start-up sample; the nth start of each target pair up (starts are interleaved).
  startCount[target] = (startCount[target] ?? 0) + 1;
  samples.push({ scenario: 'startup', target, rep: startCount[target] - 1, value: server.startupUs / 1000 });
  try {
    const job: Record<string, unknown> = { ...scenario.job, ...(scenario.perTarget?.[target] ?? {}), url: `ws://127.0.0.1:${server.port}/` };
    if (target === 'godot-native') job.concurrency = 8; // TCPServer's backlog is 8
    if (target === 'seed') job.concurrency = 5; // the seed listens with a backlog of 5
    await new Promise((r) => setTimeout(r, 200));
    server.rssBeforeMb = rssMb(server.rssPids);
    const result = await runJob(job, () => {
      setTimeout(() => (server.rssLoadedMb = rssMb(server.rssPids)), 1500);
    });
    const value = scenario.pick(result, server);
    await stopServer(server);
    const extra = { ...(scenario.extra?.(result, server) ?? {}), ...((await scenario.after?.(target)) ?? {}), load1: loadavg()[0]! };
    samples.push({ scenario: scenario.id, target, rep, value, extra });
    console.log(`  ${scenario.id.padEnd(10)} ${target.padEnd(13)} rep ${rep + 1}: ${fmt(value)} ${JSON.stringify(extra, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(1)) : v))}`);
  } catch (error) {
    samples.push({ scenario: scenario.id, target, rep, value: NaN, error: (error as Error).message });
    console.log(`  ${scenario.id.padEnd(10)} ${target.padEnd(13)} rep ${rep + 1}: FAILED ${(error as Error).message}`);
  } finally {
    await stopServer(server);
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : String(v);
}

console.log(`bench: ${quick ? 'quick' : 'full'} run, ${REPS} repetition(s), targets ${TARGETS.join(', ')}${GODOT ? '' : ' (set GODOT to add the Godot targets)'}`);
if (GODOT && !SEED) console.log(SEED_SKIPPED);
for (const scenario of SCENARIOS) {
  if (only && !only.includes(scenario.id)) continue;
  const targets = TARGETS.filter((t) => (scenario.targets ?? TARGETS).includes(t));
  if (targets.length === 0) continue;
  console.log(`${scenario.title}`);
  for (let rep = 0; rep < (scenario.reps !== undefined ? Math.min(scenario.reps, REPS) : REPS); rep++) {
    for (const target of targets) {
      if (Date.now() > RUN_DEADLINE) {
        console.log('  run deadline passed: skipping the rest');
        break;
      }
      await runOne(scenario, target, rep);
    }
  }
  // Kept as the run goes, so a run cut short still leaves its figures.
  writeFileSync(join(RAW, 'partial-samples.json'), JSON.stringify(samples));
}
loadgen?.disconnect();

const report: Report = {
  date: started_at.toISOString(),
  mode: quick ? 'quick' : 'full',
  reps: REPS,
  node: process.version,
  godot: GODOT ?? null,
  machine: `${(await import('node:os')).cpus().length} cores, load average ${loadAtStart} at the start and ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`,
  scenarios: [...SCENARIOS.map((s) => ({ id: s.id, title: s.title, metric: s.metric })), { id: 'startup', title: 'Start-up: start() to listening', metric: 'ms' }],
  samples,
};
// Only a whole default run replaces the committed results; quick and partial runs go to raw/.
const outDir = quick || only || repsArg ? RAW : RESULTS;
writeFileSync(join(outDir, 'results.json'), JSON.stringify(report, null, 1) + '\n');
writeFileSync(join(outDir, 'results.md'), renderMarkdown(report) + (SEED ? `\n${renderGodotTrio(report)}` : ''));
writeFileSync(join(outDir, 'chart.svg'), renderSvg(report));
console.log(`\n${renderMarkdown(report)}`);
console.log(`written to ${outDir}/results.md, results.json, chart.svg`);
process.exit(0);
