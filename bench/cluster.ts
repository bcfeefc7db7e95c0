/**
 * Cross-server room broadcast (issue #14): 1 KiB room messages from one host to 1,000 clients,
 * all on one sidecar, against the same 1,000 spread over two sidecars joined through a real
 * redis-server. Reports deliveries per second (with `window` rounds of `batch` messages in
 * flight, as bench/loadgen.ts's broadcast does) and the latency of a lone message to a client on
 * the publishing server and to one on the other server. Bounded: a few seconds per scenario.
 *
 *   npx tsx bench/cluster.ts [--clients=1000] [--seconds=3] [--out=bench/results/cluster.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { requestRoomMembers } from '../host/cluster-requests.js';
import { SidecarHost } from '../host/sidecar-host.js';
import { RedisServer } from '../test/support/redis-server.js';
import { measureBroadcastWindow } from './broadcast-window.js';
import { LeanClient } from './lean-client.js';
import { quantiles } from './quantiles.js';

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=') as [string, string]));
const CLIENTS = Number(args.get('clients') ?? 1000);
const SECONDS = Number(args.get('seconds') ?? 3);
const SIZE = 1024;
const BATCH = 10;
const WINDOW = 2;
const LONE_MESSAGES = 200;
/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Result {
  scenario: string;
  servers: number;
  deliveries_per_s: number;
  lone_local_ms: { p50: number; p99: number };
  lone_remote_ms: { p50: number; p99: number } | undefined;
  /** Share of one core each process used while deliveries were counted. */
  cpu_share: Record<string, number>;
}

async function scenario(name: string, servers: number, redis: RedisServer | undefined): Promise<Result> {
  const cpu: Record<string, number> = {};
  const hosts: SidecarHost[] = [];
  const clients: LeanClient[] = [];
  try {
    const urls: string[] = [];
    for (let i = 0; i < servers; i++) {
      const host = await SidecarHost.launch();
      hosts.push(host);
      host.on('connected', (id) => host.joinRoom(id, 'bench'));
      const listening = await host.start({
        port: 0,
        host: '127.0.0.1',
        heartbeat_interval_ms: 0,
        max_outbound_buffer: 64 * 1024 * 1024,
        ...(redis ? { cluster_url: redis.url } : {}),
      });
      urls.push(`ws://127.0.0.1:${listening.port}/`);
    }
    for (let i = 0; i < CLIENTS; i++) clients.push(await LeanClient.open(urls[i % servers]!, `127.0.0.${2 + (i % 200)}`, 10_000));
    const deadline = Date.now() + 30_000;
    while ((await requestRoomMembers(hosts[0]!, 'bench')).length < CLIENTS) {
      if (Date.now() > deadline) throw new Error('the room never filled');
      await sleep(50);
    }
    const publisher = hosts[0]!;
    const payload = Buffer.alloc(SIZE, 7);

    // Throughput: `WINDOW` rounds of `BATCH` room messages in flight, counted at every client.
    let pids: Array<[string, number]> = [];
    let before: number[] = [];
    const { counted, elapsedS: elapsed } = await measureBroadcastWindow({
      clients,
      sendRound: () => {
        for (let i = 0; i < BATCH; i++) publisher.roomBinary('bench', payload);
      },
      perRound: BATCH * CLIENTS,
      window: WINDOW,
      warmupMs: 500,
      durationMs: SECONDS * 1000,
      onMeasureStart: () => {
        pids = [...hosts.map((host, i) => [`sidecar ${i + 1}`, host.child.pid!] as [string, number]), ['bench clients', process.pid]];
        if (redis !== undefined) pids.push(['redis-server', redis.pid]);
        before = pids.map(([, pid]) => cpuSeconds(pid));
      },
      onMeasureEnd: (elapsedS) => pids.forEach(([label, pid], i) => (cpu[label] = round((cpuSeconds(pid) - before[i]!) / elapsedS))),
    });

    // Latency: lone messages, one every 10 ms, timed at a client of each server.
    const probes = clients.slice(0, servers); // client i is on server i % servers
    const sentAt: number[] = [];
    const arrivals = probes.map(() => [] as number[]);
    probes.forEach((probe, p) => {
      probe.onMessages = (n) => {
        for (let k = 0; k < n; k++) arrivals[p]!.push(performance.now() - sentAt[arrivals[p]!.length]!);
      };
    });
    for (const client of clients.slice(servers)) client.onMessages = () => {};
    for (let i = 0; i < LONE_MESSAGES; i++) {
      sentAt.push(performance.now());
      publisher.roomBinary('bench', payload);
      publisher.flush();
      await sleep(10);
    }
    await sleep(500);
    const summary = (samples: number[]): { p50: number; p99: number } => {
      const q = quantiles(samples, 0.5, 0.99);
      return { p50: round(q[0]!), p99: round(q[1]!) };
    };
    return {
      scenario: name,
      servers,
      deliveries_per_s: Math.round(counted / elapsed),
      lone_local_ms: summary(arrivals[0]!),
      lone_remote_ms: servers > 1 ? summary(arrivals[1]!) : undefined,
      cpu_share: cpu,
    };
  } finally {
    for (const client of clients) client.terminate();
    await Promise.all(hosts.map((host) => host.close()));
  }
}

const round = (value: number): number => Math.round(value * 100) / 100;

const redis = await RedisServer.start();
try {
  const results = [
    await scenario(`${CLIENTS} clients on one server, no cluster`, 1, undefined),
    await scenario(`${CLIENTS} clients on one server, in a cluster`, 1, redis),
    await scenario(`${CLIENTS} clients over two servers, in a cluster`, 2, redis),
  ];
  console.log(JSON.stringify(results, null, 2));
  const out = args.get('out');
  if (out !== undefined) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await redis.dispose();
}
