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
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskedFrame, repeatedFrames } from './lean-client.js';
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

function median(values: number[]): number {
  return quantiles([...values], 0.5)[0]!;
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
  const m = (name: string, peer: Peer, key: string): number => median(runs[name]![peer].map((r) => r[key]!));
  const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  // Ratios are medians of the per-repetition ratios (as bench/run.ts reports them): each
  // repetition runs both peers back to back, so they share the machine's load of the moment.
  const perRun = (name: string, key: string): number[] => runs[name]!.addon.map((r, i) => r[key]! / runs[name]!.native[i]![key]!);
  const ratio = (name: string, key: string): number => median(perRun(name, key));
  const stateRatio = ratio('state', 'usPerFrame');
  const echoRatio = ratio('echo', 'roundTripsPerSecond');
  const rows = [
    ['burst: clients with their id', fmt(m('burst', 'native', 'withId')), fmt(m('burst', 'addon', 'withId')), `of ${BURST_CLIENTS}`],
    ['burst: ids within 2 s', fmt(m('burst', 'native', 'within2s')), fmt(m('burst', 'addon', 'within2s')), `goal: all ${BURST_CLIENTS}`],
    ['burst: median time to id (ms)', fmt(m('burst', 'native', 'p50Ms')), fmt(m('burst', 'addon', 'p50Ms')), ''],
    ['burst: last id (ms)', fmt(m('burst', 'native', 'maxMs')), fmt(m('burst', 'addon', 'maxMs')), 'native: only the clients that got one'],
    ['state: main-thread µs per frame', fmt(m('state', 'native', 'usPerFrame'), 1), fmt(m('state', 'addon', 'usPerFrame'), 1), `addon/native ${fmt(stateRatio, 3)} (goal ≤ 0.2)`],
    ['state: worst frame (µs)', fmt(m('state', 'native', 'maxFrameUs')), fmt(m('state', 'addon', 'maxFrameUs')), ''],
    ['state: µs per rpc() call', fmt(m('state', 'native', 'rpcUsPerTick'), 1), fmt(m('state', 'addon', 'rpcUsPerTick'), 1), ''],
    ['state: frames in 5 s', fmt(m('state', 'native', 'frames')), fmt(m('state', 'addon', 'frames')), ''],
    ['state: states delivered / sent', fmt(m('state', 'native', 'delivered'), 3), fmt(m('state', 'addon', 'delivered'), 3), ''],
    ['echo: round trips/s (100 clients)', fmt(m('echo', 'native', 'roundTripsPerSecond')), fmt(m('echo', 'addon', 'roundTripsPerSecond')), `addon/native ${fmt(echoRatio, 2)}× (goal ≥ 1.5)`],
    ['peer echo: round trips/s (100 clients)', fmt(m('peerEcho', 'native', 'roundTripsPerSecond')), fmt(m('peerEcho', 'addon', 'roundTripsPerSecond')), `addon/native ${fmt(ratio('peerEcho', 'roundTripsPerSecond'), 2)}×`],
    ['peer echo: Godot CPU µs per round trip', fmt(m('peerEcho', 'native', 'godotUsPerRoundTrip'), 1), fmt(m('peerEcho', 'addon', 'godotUsPerRoundTrip'), 1), ''],
    ['echo: per client (/s)', fmt(m('echo', 'native', 'perClient')), fmt(m('echo', 'addon', 'perClient')), ''],
    ['echo: Godot CPU µs per round trip', fmt(m('echo', 'native', 'godotUsPerRoundTrip'), 1), fmt(m('echo', 'addon', 'godotUsPerRoundTrip'), 1), 'the game process, all threads'],
    ['echo: sidecar CPU µs per round trip', '—', fmt(m('echo', 'addon', 'sidecarUsPerRoundTrip'), 1), 'the other process'],
    ['echo: share of the window in network work', fmt(m('echo', 'native', 'busyShare'), 2), fmt(m('echo', 'addon', 'busyShare'), 2), 'wall time in poll, main thread'],
  ];
  const report = [
    '# Multiplayer: WebSocketServerMultiplayerPeer vs Godot\'s WebSocketMultiplayerPeer',
    '',
    `Written by \`GODOT=... npx tsx bench/multiplayer.ts\` (${REPS} repetition${REPS === 1 ? '' : 's'}; figures are medians, ratios medians of the per-repetition ratios), ${new Date().toISOString().slice(0, 10)}, ` +
      `engine \`${GODOT.split('/').pop()}\`, ${process.platform} ${process.arch}, Node ${process.version}, loopback, ${cpus().length} cores shared with other work ` +
      `(load average ${loadAtStart} at the start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end).`,
    'Both servers run in the same engine from the same script (`bench/godot/multiplayer_server.gd`); only the peer differs.',
    '',
    '| measure | native | addon | ratio / note |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## Goals (issue #13)',
    '',
    '| goal | this run | met |',
    '|---|---|---|',
    `| all ${BURST_CLIENTS} burst clients have their id in < 2 s | ${fmt(m('burst', 'addon', 'within2s'))} of ${BURST_CLIENTS} (median of runs; per run ${runs.burst!.addon.map((r) => r.within2s).join(', ')}) | ${m('burst', 'addon', 'within2s') === BURST_CLIENTS ? 'yes' : '**no**'} |`,
    `| state: main-thread time per frame ≤ 1/5 of native's | ${fmt(stateRatio, 3)} (per run ${perRun('state', 'usPerFrame').map((r) => fmt(r, 3)).join(', ')}) | ${stateRatio <= 0.2 ? 'yes' : '**no**'} |`,
    `| echo at 100 clients ≥ 1.5× native | ${fmt(echoRatio, 2)}× (per run ${perRun('echo', 'roundTripsPerSecond').map((r) => fmt(r, 2)).join(', ')}) | ${echoRatio >= 1.5 ? 'yes' : '**no**'} |`,
    '',
    '## What is measured',
    '',
    `- **burst**: ${BURST_CLIENTS} clients open their TCP connection and upgrade at once; each waits for its 4-byte peer id. Times run from the start of the burst. Godot's server accepts one connection per frame behind a listen backlog of 8, so the rest wait for SYN retransmits; ids after ${BURST_DEADLINE_MS / 1000} s are not counted.`,
    `- **state**: ${STATE_CLIENTS} clients connected (8 at a time), ${STATE_RELAY ? 'SceneMultiplayer\'s `server_relay` on (the default)' : '`server_relay` off'}, 2 s to settle, then the server calls \`rpc()\` on a node's \`@rpc\` method with a 200-byte \`PackedByteArray\` ${STATE_HZ} times a second for ${STATE_SECONDS} s. The clients confirm the RPC node's path as a stock client does. Godot 4.4's SceneMultiplayer hands an \`rpc()\` to all to the peer as one packet per peer; Godot's peer writes each to its socket on the main thread, the addon's peer merges them into one room broadcast that the sidecar fans out. The figure is the server's main-thread time per frame in \`multiplayer.poll()\` (the scene tree's own poll is off) plus the \`rpc()\` calls, over every frame of the window (headless Godot runs at most about 145 frames per second).`,
    `- **echo**: ${ECHO_CLIENTS} clients each keep ${ECHO_IN_FLIGHT} packets in flight: 65-byte SceneMultiplayer raw packets (\`send_bytes\`: command byte 3, then 64 bytes) that the server's \`peer_packet\` handler sends back with \`send_bytes(packet, sender)\`. Round trips per second over ${ECHO_MEASURE_MS / 1000} s after a ${ECHO_WARMUP_MS / 1000} s warm-up. This is the whole SceneMultiplayer and peer path both ways, without \`@rpc\` argument decoding (which costs both servers the same).`,
    `- **peer echo**: the same load, echoed below SceneMultiplayer: the server script polls the peer itself and sends each packet back with \`set_target_peer(sender)\` and \`put_packet\` (the peer's own cost, without SceneMultiplayer's).`,
    '- CPU figures come from `/proc/<pid>/stat` (10 ms ticks) over the echo window: Godot\'s process (every thread; the headless server does its network work on the main thread) and, for the addon, its sidecar.',
    '- The load generator (`bench/stock-wire-client.ts`) speaks the stock wire in this one Node process and shares the 2 cores with Godot and, for the addon, the sidecar.',
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench/results/multiplayer.md'), report);
  console.log(report);
}

await main();
