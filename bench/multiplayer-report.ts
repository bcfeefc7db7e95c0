/** bench/results/multiplayer.md from the runs of bench/multiplayer.ts: figures, goals, and what each measures. */
import { cpus, loadavg } from 'node:os';
import { quantiles } from './quantiles.js';

export type Peer = 'native' | 'addon';
/** Each scenario's results per peer, one record per repetition. */
export type Runs = Record<string, Record<Peer, Array<Record<string, number>>>>;

/** The run's settings the text states. */
export interface ReportSettings {
  reps: number;
  engine: string;
  loadAtStart: string;
  burstClients: number;
  burstDeadlineMs: number;
  stateClients: number;
  stateSeconds: number;
  stateHz: number;
  stateRelay: boolean;
  echoClients: number;
  echoInFlight: number;
  echoWarmupMs: number;
  echoMeasureMs: number;
}

function median(values: number[]): number {
  return quantiles([...values], 0.5)[0]!;
}

/** The Markdown report. */
export function renderReport(runs: Runs, settings: ReportSettings): string {
  const m = (name: string, peer: Peer, key: string): number => median(runs[name]![peer].map((r) => r[key]!));
  const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  // Ratios are medians of the per-repetition ratios (as bench/run.ts reports them): each
  // repetition runs both peers back to back, so they share the machine's load of the moment.
  const perRun = (name: string, key: string): number[] => runs[name]!.addon.map((r, i) => r[key]! / runs[name]!.native[i]![key]!);
  const ratio = (name: string, key: string): number => median(perRun(name, key));
  const stateRatio = ratio('state', 'usPerFrame');
  const echoRatio = ratio('echo', 'roundTripsPerSecond');
  const rows = [
    ['burst: clients with their id', fmt(m('burst', 'native', 'withId')), fmt(m('burst', 'addon', 'withId')), `of ${settings.burstClients}`],
    ['burst: ids within 2 s', fmt(m('burst', 'native', 'within2s')), fmt(m('burst', 'addon', 'within2s')), `goal: all ${settings.burstClients}`],
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
    `Written by \`GODOT=... npx tsx bench/multiplayer.ts\` (${settings.reps} repetition${settings.reps === 1 ? '' : 's'}; figures are medians, ratios medians of the per-repetition ratios), ${new Date().toISOString().slice(0, 10)}, ` +
      `engine \`${settings.engine}\`, ${process.platform} ${process.arch}, Node ${process.version}, loopback, ${cpus().length} cores shared with other work ` +
      `(load average ${settings.loadAtStart} at the start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end).`,
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
    `| all ${settings.burstClients} burst clients have their id in < 2 s | ${fmt(m('burst', 'addon', 'within2s'))} of ${settings.burstClients} (median of runs; per run ${runs.burst!.addon.map((r) => r.within2s).join(', ')}) | ${m('burst', 'addon', 'within2s') === settings.burstClients ? 'yes' : '**no**'} |`,
    `| state: main-thread time per frame ≤ 1/5 of native's | ${fmt(stateRatio, 3)} (per run ${perRun('state', 'usPerFrame').map((r) => fmt(r, 3)).join(', ')}) | ${stateRatio <= 0.2 ? 'yes' : '**no**'} |`,
    `| echo at 100 clients ≥ 1.5× native | ${fmt(echoRatio, 2)}× (per run ${perRun('echo', 'roundTripsPerSecond').map((r) => fmt(r, 2)).join(', ')}) | ${echoRatio >= 1.5 ? 'yes' : '**no**'} |`,
    '',
    '## What is measured',
    '',
    `- **burst**: ${settings.burstClients} clients open their TCP connection and upgrade at once; each waits for its 4-byte peer id. Times run from the start of the burst. Godot's server accepts one connection per frame behind a listen backlog of 8, so the rest wait for SYN retransmits; ids after ${settings.burstDeadlineMs / 1000} s are not counted.`,
    `- **state**: ${settings.stateClients} clients connected (8 at a time), ${settings.stateRelay ? 'SceneMultiplayer\'s `server_relay` on (the default)' : '`server_relay` off'}, 2 s to settle, then the server calls \`rpc()\` on a node's \`@rpc\` method with a 200-byte \`PackedByteArray\` ${settings.stateHz} times a second for ${settings.stateSeconds} s. The clients confirm the RPC node's path as a stock client does. Godot 4.4's SceneMultiplayer hands an \`rpc()\` to all to the peer as one packet per peer; Godot's peer writes each to its socket on the main thread, the addon's peer merges them into one room broadcast that the sidecar fans out. The figure is the server's main-thread time per frame in \`multiplayer.poll()\` (the scene tree's own poll is off) plus the \`rpc()\` calls, over every frame of the window (headless Godot runs at most about 145 frames per second).`,
    `- **echo**: ${settings.echoClients} clients each keep ${settings.echoInFlight} packets in flight: 65-byte SceneMultiplayer raw packets (\`send_bytes\`: command byte 3, then 64 bytes) that the server's \`peer_packet\` handler sends back with \`send_bytes(packet, sender)\`. Round trips per second over ${settings.echoMeasureMs / 1000} s after a ${settings.echoWarmupMs / 1000} s warm-up. This is the whole SceneMultiplayer and peer path both ways, without \`@rpc\` argument decoding (which costs both servers the same).`,
    `- **peer echo**: the same load, echoed below SceneMultiplayer: the server script polls the peer itself and sends each packet back with \`set_target_peer(sender)\` and \`put_packet\` (the peer's own cost, without SceneMultiplayer's).`,
    '- CPU figures come from `/proc/<pid>/stat` (10 ms ticks) over the echo window: Godot\'s process (every thread; the headless server does its network work on the main thread) and, for the addon, its sidecar.',
    '- The load generator (`bench/stock-wire-client.ts`) speaks the stock wire in this one Node process and shares the 2 cores with Godot and, for the addon, the sidecar.',
    '',
  ].join('\n');
  return report;
}
