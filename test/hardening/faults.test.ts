/**
 * Faults on the host side of the sidecar: a host that stalls, a host killed
 * with SIGKILL, a sidecar killed under its host, and many start/stop cycles.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost } from '../../host/sidecar-host.js';
import { connect, nextEvent, RecordingClient, startSidecar, stopAllSidecars, until } from '../support/harness.js';
import { residentBytes } from '../support/process-stats.js';

afterEach(stopAllSidecars);

/**
 * Each launch starts a Node process (0.2–0.5 s of CPU on a loaded 2-core machine), so the
 * normal suite runs 20 of them; HARDENING_LONG=1 runs the full 100.
 */
const LAUNCH_CYCLES = process.env.HARDENING_LONG === '1' ? 100 : 20;
const HOST_PROCESS = fileURLToPath(new URL('./fixtures/host-process.ts', import.meta.url));


/** True once the process is gone or a zombie nobody reaped yet (it holds no port or file then). */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** True when some socket on this machine listens on `port` (from /proc/net/tcp and tcp6). */
function someoneListensOn(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => {
        const fields = line.trim().split(/\s+/);
        return fields[1]?.endsWith(`:${hex}`) === true && fields[3] === '0A';
      }),
  );
}

/**
 * The port is released: it can be bound again, or, when the bind fails only because a client
 * connection elsewhere on this busy machine took the same number as its ephemeral local port,
 * at least nothing listens on it any more.
 */
async function released(port: number): Promise<boolean> {
  return (await canBind(port)) || !someoneListensOn(port);
}

function openFds(pid: number | 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Live processes whose parent is this one (zombies excluded). */
function childPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out === ''
    ? []
    : out
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(([, stat, comm]) => !stat!.startsWith('Z') && comm !== 'ps')
        .map(([pid]) => Number(pid));
}

describe('the host stops reading stdout', () => {
  it('for 5 s under load: sidecar memory stays bounded, stdin is still served, then every message arrives once, in order', async () => {
    const started = await startSidecar();
    const host = started.host;
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(started)));
    const received = new Map<number, number[]>();
    host.on('text', (id, text) => {
      let list = received.get(id);
      if (list === undefined) received.set(id, (list = []));
      list.push(Number(text.slice(0, text.indexOf(':'))));
    });
    const pid = host.child.pid!;
    const baseline = residentBytes(pid);
    const padding = 'x'.repeat(1000);
    const sent = new Map<number, number>(clients.map(({ id }) => [id, 0]));
    let peak = baseline;
    let stalledSends = 0;
    const logs: string[] = [];
    host.on('log', (_level, line) => logs.push(line));

    host.setReading(false);
    const stallStart = performance.now();
    // Under load for the whole stall: every client keeps sending 1 KB messages until its socket backs up 1 MiB.
    let broadcasts = 0;
    while (performance.now() - stallStart < 5000) {
      for (const { client, id } of clients) {
        if (client.ws.bufferedAmount > 1024 * 1024) {
          stalledSends++;
          continue;
        }
        for (let i = 0; i < 20; i++) {
          const n = sent.get(id)!;
          client.ws.send(`${n}:${padding}`);
          sent.set(id, n + 1);
        }
      }
      // The host's commands still get through while it does not read: stdin is drained at all times.
      host.broadcastText(`during-stall-${broadcasts++}`);
      peak = Math.max(peak, residentBytes(pid));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await until(() => clients.every(({ client }) => client.texts.includes(`during-stall-${broadcasts - 1}`)), 'broadcasts sent during the stall', 10_000);
    const backedUp = clients.filter(({ client }) => client.ws.bufferedAmount > 0).length;
    // The sidecar noticed (stderr is still read) and stopped reading its clients.
    expect(logs).toContain('host is not reading: client sockets paused');
    host.setReading(true);

    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    await until(() => clients.every(({ id }) => received.get(id)?.length === sent.get(id)), 'every message after the host resumed', 60_000);
    for (const { id } of clients) expect(received.get(id)).toEqual(Array.from({ length: sent.get(id)! }, (_, i) => i));
    const stats = await host.stats();
    expect(stats.messages_in).toBe(total);
    expect(stats.paused).toBe(false);
    const growth = peak - baseline;
    console.log(
      `stall: ${JSON.stringify({ messages: total, megabytes: Math.round(total / 1000), clientsBackedUp: backedUp, stalledSends, rssBaselineMiB: +(baseline / 2 ** 20).toFixed(1), rssGrowthMiB: +(growth / 2 ** 20).toFixed(1) })}`,
    );
    // The rest waited in the kernel's socket buffers and the clients' own queues, not in the sidecar.
    expect(logs).toContain('host caught up: client sockets resumed');
    // A real load: tens of megabytes arrived while the host slept (how many depends on the machine's load).
    expect(total * 1000).toBeGreaterThan(16 * 1024 * 1024);
    expect(growth).toBeLessThan(48 * 1024 * 1024);
  }, 120_000);
});

describe('the host dies', () => {
  it('SIGKILL: the orphaned sidecar closes its clients with 1001 and exits within 1 s; the port can be bound again', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOST_PROCESS], { stdio: ['ignore', 'pipe', 'inherit'] });
    let line = '';
    child.stdout.on('data', (chunk) => (line += chunk));
    await until(() => line.includes('\n'), 'the host process to report its sidecar', 20_000);
    const { sidecarPid, port } = JSON.parse(line) as { sidecarPid: number; port: number };
    const client = await new RecordingClient(`ws://127.0.0.1:${port}`).opened();
    client.ws.send('echo?');
    await until(() => client.texts.includes('echo?'), 'an echo through the host process');
    expect(await canBind(port)).toBe(false);

    const killedAt = performance.now();
    child.kill('SIGKILL');
    await until(() => isGone(sidecarPid), 'the sidecar to exit', 5000);
    const elapsed = performance.now() - killedAt;
    console.log(`host SIGKILL: sidecar gone after ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(await client.closed()).toBe(1001);
    expect(await released(port)).toBe(true);
  }, 60_000);
});

describe('the sidecar dies', () => {
  it('SIGKILL with clients and requests in flight: exit at once, waiting requests fail, every client is reported 1006', async () => {
    const started = await startSidecar();
    const host = started.host;
    const a = await connect(started);
    const b = await connect(started);
    const disconnected: Array<[number, number, boolean]> = [];
    host.on('disconnected', (id, code, _reason, clean) => disconnected.push([id, code, clean]));
    const exited = nextEvent<[number | null, string | null]>(host, 'exit');
    host.child.kill('SIGSTOP'); // frozen: the requests below are never read, so never answered
    const ping = host.ping().then(() => 'answered', (error: Error) => error.message);
    const stats = host.stats().then(() => 'answered', (error: Error) => error.message);
    const stop = host.stop().then(() => 'answered', (error: Error) => error.message);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = performance.now();
    host.child.kill('SIGKILL');
    const [code, signal] = await exited;
    const exitMs = performance.now() - killedAt;
    expect([code, signal]).toEqual([null, 'SIGKILL']);
    for (const outcome of [await ping, await stats, await stop]) expect(outcome).toMatch(/the sidecar exited \(code null, signal SIGKILL\) before answering/);
    await until(() => disconnected.length === 2, 'both clients reported gone');
    const settledMs = performance.now() - killedAt;
    expect(disconnected.sort()).toEqual([[a.id, 1006, false], [b.id, 1006, false]].sort());
    console.log(`sidecar SIGKILL: exit event after ${exitMs.toFixed(0)} ms, requests failed and clients reported after ${settledMs.toFixed(0)} ms`);
    expect(settledMs).toBeLessThan(1000);
    // The real clients see the TCP connection drop.
    expect(await a.client.closed()).toBe(1006);
    // Later requests fail at once instead of hanging.
    await expect(host.ping()).rejects.toThrow(/before answering ping/);
    await expect(host.start({ port: 0 })).rejects.toThrow(/not running/);
  });

  it('SIGKILL while start is pending: start rejects at once, naming the signal', async () => {
    const host = await SidecarHost.launch();
    host.child.kill('SIGSTOP');
    const start = host.start({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const killedAt = performance.now();
    host.child.kill('SIGKILL');
    await expect(start).rejects.toThrow(/signal SIGKILL\) before answering start/);
    expect(performance.now() - killedAt).toBeLessThan(1000);
  });
});

describe('start/stop cycles', () => {
  it(`${LAUNCH_CYCLES} launch/start/close cycles of the sidecar process leave no process, descriptor or port behind`, async () => {
    const fdBaseline = openFds('self');
    const childrenBefore = childPids();
    const ports: number[] = [];
    const pids: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < LAUNCH_CYCLES) {
          next++;
          const host = await SidecarHost.launch();
          pids.push(host.child.pid!);
          const listening = await host.start({ port: 0, host: '127.0.0.1', heartbeat_interval_ms: 0 });
          ports.push(listening.port);
          const client = await new RecordingClient(`ws://127.0.0.1:${listening.port}`).opened();
          expect(await host.close()).toBe(0);
          expect(await client.closed()).toBe(1001);
        }
      }),
    );
    expect(pids).toHaveLength(LAUNCH_CYCLES);
    expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
    expect(childPids().filter((pid) => !childrenBefore.includes(pid))).toEqual([]);
    const bindable = await Promise.all(ports.map(released));
    expect(bindable.every(Boolean)).toBe(true);
    await until(() => openFds('self') <= fdBaseline + 2, 'this process to hold no more pipes or sockets than before', 5000).catch(() => {});
    console.log(`launch cycles: fds before ${fdBaseline}, after ${openFds('self')}`);
    expect(openFds('self')).toBeLessThanOrEqual(fdBaseline + 2);
  }, 120_000);

  it('100 start/stop cycles inside one sidecar leave its descriptors and every port free', async () => {
    const host = await SidecarHost.launch();
    const pid = host.child.pid!;
    const run = async (count: number): Promise<number[]> => {
      const ports: number[] = [];
      for (let i = 0; i < count; i++) {
        const listening = await host.start({ port: 0, host: '127.0.0.1', heartbeat_interval_ms: 0 });
        ports.push(listening.port);
        const client = await new RecordingClient(`ws://127.0.0.1:${listening.port}`).opened();
        await host.stop();
        expect(await client.closed()).toBe(1001);
      }
      return ports;
    };
    await run(5);
    const fdBaseline = openFds(pid);
    const ports = await run(100);
    expect((await Promise.all(ports.map(released))).every(Boolean)).toBe(true);
    await until(() => openFds(pid) <= fdBaseline, 'the sidecar to hold no more descriptors than before', 5000).catch(() => {});
    console.log(`start/stop cycles: sidecar fds before ${fdBaseline}, after ${openFds(pid)}`);
    expect(openFds(pid)).toBeLessThanOrEqual(fdBaseline);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(await host.close()).toBe(0);
  }, 120_000);
});
