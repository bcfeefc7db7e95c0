/**
 * Godot's high-level multiplayer: WebSocketServerMultiplayerPeer against Godot's own
 * WebSocketMultiplayerPeer server, in the same engine, in the same run (issue #13):
 *
 *   GODOT=/path/to/godot npx tsx bench/multiplayer.ts [--reps=N]   (after npm run build)
 *
 * writes bench/results/multiplayer.md. The server is bench/godot/multiplayer_server.gd, run from
 * the addon's project; the clients are StockWireClients (stock wire, no Godot each), all in this
 * process, loopback only. Three scenarios, each on a fresh server:
 * - burst: 500 clients connect at once; time from the start of the burst to each client's id;
 * - state: 500 clients; the server rpc()s a 200-byte state to all at 30 Hz for 5 s; the
 *   server's main-thread time per frame in multiplayer.poll() plus the rpc calls;
 * - echo: 100 clients, 8 packets each in flight, 65-byte SceneMultiplayer raw packets
 *   (send_bytes: command byte 3 + 64 bytes) echoed by the server with send_bytes to the sender,
 *   so each round trip crosses SceneMultiplayer and the peer both ways (no @rpc decoding).
 * Every loop is bounded in count and time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskedFrame, repeatedFrames } from './lean-client.js';
import { renderReport } from './multiplayer-report.js';
import { quantiles } from './quantiles.js';
import { StockWireClient } from './stock-wire-client.js';
import { stopProcess } from './stop-process.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = join(ROOT, 'godot-addon');
const SERVER_SCRIPT = join(ROOT, 'bench/godot/multiplayer_server.gd');
const GODOT = process.env.GODOT;
const PEERS = ['native', 'addon'] as const;
type Peer = (typeof PEERS)[number];
const REPS = Number(/^--reps=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--reps=')) ?? '')?.[1] ?? 1);
/** `--only=echo` (or burst, state): one scenario, printed but not written to the results. */
/** `--peer=addon` (or native): one peer, with `--only`. */
const ONLY_PEER = /^--peer=(\w+)$/.exec(process.argv.find((a) => a.startsWith('--peer=')) ?? '')?.[1];
const ONLY = /^--only=(\w+)$/.exec(process.argv.find((a) => a.startsWith('--only=')) ?? '')?.[1];

const BURST_CLIENTS = 500;
const BURST_DEADLINE_MS = 30_000;
const STATE_CLIENTS = 500;
const STATE_SECONDS = 5;
/** `--relay=0`: the state scenario with SceneMultiplayer's server_relay off (see the report). */
/** `--hz=N`: the state rate (30 unless for a diagnosis; only `--only` runs should change it). */
const STATE_HZ = Number(/^--hz=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--hz=')) ?? '')?.[1] ?? 30);
const STATE_RELAY = !process.argv.includes('--relay=0');
const ECHO_CLIENTS = 100;
const ECHO_IN_FLIGHT = 8;
const ECHO_WARMUP_MS = 1000;
const ECHO_MEASURE_MS = 5000;
/** Connections opened at a time outside the burst: Godot's server accepts one per frame behind a backlog of 8. */
const CONNECT_CONCURRENCY = 8;

interface Server {
  child: ChildProcess;
  port: number;
  lines: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

async function startServer(peer: Peer, mode: string, extra: string[] = []): Promise<Server> {
  const port = await freePort();
  const child = spawn(GODOT!, ['--headless', '--path', PROJECT, '--script', SERVER_SCRIPT, '--', `--peer=${peer}`, `--mode=${mode}`, `--port=${port}`, ...extra], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => void lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await waitFor(() => lines.some((l) => l === 'READY' || l.startsWith('FAILED')), 20_000, `${peer} server to start`, lines);
  if (!lines.includes('READY')) throw new Error(`${peer} server did not start:\n${lines.join('\n')}`);
  return { child, port, lines };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string, lines?: string[]): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      if (lines === undefined) return false;
      throw new Error(`timed out waiting for ${what}:\n${lines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Opens `count` clients, `concurrency` at a time, each waiting for its id. */
async function connectClients(port: number, count: number, concurrency: number): Promise<StockWireClient[]> {
  const clients: StockWireClient[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const client = await StockWireClient.open(port, 20_000);
      await waitFor(() => client.peerId !== 0, 20_000, 'an id', []);
      clients.push(client);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return clients;
}

async function burst(peer: Peer): Promise<Record<string, number>> {
  const server = await startServer(peer, 'serve');
  const started = performance.now();
  const opened = await Promise.all(Array.from({ length: BURST_CLIENTS }, () => StockWireClient.open(server.port, BURST_DEADLINE_MS).catch(() => undefined)));
  const clients = opened.filter((c): c is StockWireClient => c !== undefined);
  await waitFor(() => clients.every((c) => c.peerId !== 0), BURST_DEADLINE_MS - (performance.now() - started), 'every id');
  const times = clients.filter((c) => c.peerId !== 0).map((c) => c.idAt - started);
  const [p50, max] = quantiles([...times], 0.5, 1);
  clients.forEach((c) => c.destroy());
  await stopProcess(server.child);
  return { withId: times.length, within2s: times.filter((t) => t < 2000).length, p50Ms: p50!, maxMs: max! };
}

async function state(peer: Peer): Promise<Record<string, number>> {
  const server = await startServer(peer, 'state', [`--clients=${STATE_CLIENTS}`, `--seconds=${STATE_SECONDS}`, `--hz=${STATE_HZ}`, '--state-bytes=200', `--relay=${STATE_RELAY ? 1 : 0}`, '--settle=2']);
  const clients = await connectClients(server.port, STATE_CLIENTS, CONNECT_CONCURRENCY);
  let received = 0;
  // States only: with server_relay on, SceneMultiplayer's peer announcements (6 bytes) come too.
  for (const client of clients) client.onPacket = (packet) => void (packet.length >= 200 && received++);
  await waitFor(() => server.lines.some((l) => l.startsWith('RESULT')), (STATE_SECONDS + 60) * 1000, 'the state window', server.lines);
  const result = parseResult(server.lines);
  if (process.env.BENCH_MP_LOG) console.log(server.lines.filter((l) => l.startsWith('PROBE') || l.startsWith('ERROR') || l.includes('SCRIPT')).join('\n'));
  await new Promise((r) => setTimeout(r, 300)); // the last tick's packets
  clients.forEach((c) => c.destroy());
  await stopProcess(server.child);
  return {
    frames: result.frames!,
    ticks: result.ticks!,
    usPerFrame: result.network_us! / result.frames!,
    maxFrameUs: result.max_frame_us!,
    rpcUsPerTick: result.rpc_us! / result.ticks!,
    delivered: received / (result.ticks! * STATE_CLIENTS),
    engineErrors: server.lines.filter((l) => l.startsWith('ERROR')).length,
  };
}

function echo(peer: Peer): Promise<Record<string, number>> {
  return echoOn(peer, 'echo');
}

function peerEcho(peer: Peer): Promise<Record<string, number>> {
  return echoOn(peer, 'peer-echo');
}

async function echoOn(peer: Peer, mode: string): Promise<Record<string, number>> {
  const server = await startServer(peer, mode, [`--seconds=${(ECHO_WARMUP_MS + ECHO_MEASURE_MS) / 1000}`]);
  const clients = await connectClients(server.port, ECHO_CLIENTS, CONNECT_CONCURRENCY);
  let roundTrips = 0;
  for (const [index, client] of clients.entries()) {
    // A payload of its own per client: the addon's peer merges identical packets to several peers.
    const payload = Buffer.alloc(64, 0x61);
    payload.writeUInt32LE(index, 0);
    const frame = maskedFrame(Buffer.concat([Buffer.from([3]), payload]), 0x2);
    client.onPacket = (packet) => {
      if (packet[0] !== 3) return;
      roundTrips++;
      client.send(frame);
    };
    client.send(repeatedFrames(frame, ECHO_IN_FLIGHT));
  }
  await new Promise((r) => setTimeout(r, ECHO_WARMUP_MS));
  const before = roundTrips;
  const cpu = await cpuShares(server, ECHO_MEASURE_MS);
  const perSecond = (roundTrips - before) / (ECHO_MEASURE_MS / 1000);
  await waitFor(() => server.lines.some((l) => l.startsWith('RESULT')), 10_000, 'the echo window', server.lines);
  const result = parseResult(server.lines);
  clients.forEach((c) => c.destroy());
  await stopProcess(server.child);
  return {
    roundTripsPerSecond: perSecond,
    perClient: perSecond / ECHO_CLIENTS,
    frames: result.frames!,
    busyShare: result.network_us! / (((ECHO_WARMUP_MS + ECHO_MEASURE_MS) / 1000) * 1e6),
    godotUsPerRoundTrip: (cpu.godot * 1e6) / perSecond,
    sidecarUsPerRoundTrip: (cpu.sidecar * 1e6) / perSecond,
    loadgenCpu: cpu.loadgen,
  };
}

/** CPU seconds (user + system) `pid` has used, and its children's pids (the addon's sidecar). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** CPU each side used during `ms` milliseconds, as shares of one core. */
async function cpuShares(server: Server, ms: number): Promise<{ godot: number; sidecar: number; loadgen: number }> {
  const godotPid = server.child.pid!;
  const sidecars = childPids(godotPid);
  const read = () => ({ godot: cpuSeconds(godotPid), sidecar: sidecars.reduce((sum, pid) => sum + cpuSeconds(pid), 0), loadgen: process.cpuUsage() });
  const before = read();
  await new Promise((r) => setTimeout(r, ms));
  const after = read();
  const loadgenUs = after.loadgen.user + after.loadgen.system - before.loadgen.user - before.loadgen.system;
  return { godot: (after.godot - before.godot) / (ms / 1000), sidecar: (after.sidecar - before.sidecar) / (ms / 1000), loadgen: loadgenUs / 1e3 / ms };
}

function parseResult(lines: string[]): Record<string, number> {
  const line = lines.find((l) => l.startsWith('RESULT'))!;
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

async function main(): Promise<void> {
  if (!GODOT) {
    console.log('bench/multiplayer.ts: SKIPPED, GODOT is not set (GODOT=/path/to/godot npx tsx bench/multiplayer.ts)');
    return;
  }
  const cache = spawnSync('bash', [join(PROJECT, 'write-class-cache.sh')], { encoding: 'utf8' });
  if (cache.status !== 0) throw new Error(`write-class-cache.sh failed: ${cache.stderr}`);
  const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
  const scenarios = { burst, state, echo, peerEcho };
  const runs: Record<string, Record<Peer, Array<Record<string, number>>>> = {};
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (ONLY !== undefined && name !== ONLY) continue;
    runs[name] = { native: [], addon: [] };
    for (let rep = 0; rep < REPS; rep++) {
      for (const peer of PEERS) {
        if (ONLY_PEER !== undefined && peer !== ONLY_PEER) continue;
        const result = await scenario(peer);
        console.log(`${name} ${peer} rep ${rep + 1}: ${JSON.stringify(result)}`);
        runs[name]![peer].push(result);
      }
    }
  }
  if (ONLY !== undefined) return;
  const report = renderReport(runs, {
    reps: REPS,
    engine: GODOT.split('/').pop()!,
    loadAtStart,
    burstClients: BURST_CLIENTS,
    burstDeadlineMs: BURST_DEADLINE_MS,
    stateClients: STATE_CLIENTS,
    stateSeconds: STATE_SECONDS,
    stateHz: STATE_HZ,
    stateRelay: STATE_RELAY,
    echoClients: ECHO_CLIENTS,
    echoInFlight: ECHO_IN_FLIGHT,
    echoWarmupMs: ECHO_WARMUP_MS,
    echoMeasureMs: ECHO_MEASURE_MS,
  });
  writeFileSync(join(ROOT, 'bench/results/multiplayer.md'), report);
  console.log(report);
}

await main();
