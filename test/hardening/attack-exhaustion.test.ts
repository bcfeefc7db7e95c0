/**
 * Issue #12, exhaustion: a sidecar out of file descriptors (its limit is
 * lowered with `prlimit` rather than opening thousands of sockets), and
 * connection churn while the host is not reading. Defects 1, 3 and 8; the
 * stats fields and the `accept_failed` error are proposed in
 * protocol/PROTOCOL.md.
 */
import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import { clientFrame, openRaw, sleep, upgradeRequest, type RawClient } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

const MiB = 1024 * 1024;
/** Low enough that 100 connections exhaust it, high enough for Node to start (it needs ~25). */
const FD_LIMIT = 64;

/** Opens `count` upgrades and waits until each was answered or dropped (or 3 s passed). */
async function openUpgrades(port: number, count: number): Promise<RawClient[]> {
  const clients = Array.from({ length: count }, () => openRaw(port));
  await Promise.all(clients.map((client) => Promise.race([client.head(3000).catch(() => ''), client.closed])));
  return clients;
}

describe('issue #12: exhaustion', () => {
  it(`defect 1: with the fd limit (${FD_LIMIT}) reached by 100 idle clients, get_stats answers and the sidecar stays up`, async () => {
    const host = await AttackHost.spawn({ nofile: FD_LIMIT });
    const { port } = await host.start();
    await openUpgrades(port, 100);
    await sleep(300);
    const stats = await host.stats(11, 3000).catch((error: Error) => error);
    await sleep(300);
    expect(host.child.exitCode, `exit code; stderr: ${host.stderr.slice(-400)}`).toBeNull();
    expect(stats).not.toBeInstanceOf(Error);
  });

  it(`defect 1: a stats field it cannot read at the fd limit is null and named in stats.unavailable`, async () => {
    const host = await AttackHost.spawn({ nofile: FD_LIMIT });
    const { port } = await host.start();
    await openUpgrades(port, 100);
    await sleep(300);
    const stats = await host.stats(12, 3000);
    const unavailable = (stats.unavailable ?? []) as string[];
    for (const [key, value] of Object.entries(stats)) {
      if (value === null) expect(unavailable, `stats.${key} is null`).toContain(key);
    }
    for (const key of unavailable) expect(stats[key], `stats.${key} is named unavailable`).toBeNull();
    expect(stats.accept_errors, JSON.stringify(stats)).toBeGreaterThan(0);
  });

  it(`defect 8: connections refused at the fd limit (${FD_LIMIT}) are reported: an accept_failed error, a warn: line, stats.accept_errors`, async () => {
    const host = await AttackHost.spawn({ nofile: FD_LIMIT });
    const { port } = await host.start();
    const clients = await openUpgrades(port, 150);
    const upgraded = clients.filter((client) => client.received().toString('latin1').startsWith('HTTP/1.1 101')).length;
    const error = await host.find((e) => e[0] === Event.ERROR && e[1] === 'accept_failed', 2000);
    const warnings = host.stderr.split('\n').filter((line) => line.startsWith('warn: ') && /descriptor|EMFILE/i.test(line));
    // Free some descriptors so stats can be read at all (defect 1 is pinned above).
    for (const client of clients.slice(0, 60)) client.socket.destroy();
    await sleep(500);
    const stats = await host.stats(13, 3000).catch(() => ({}) as Record<string, unknown>);
    const seen = { upgraded, error: error?.[1], warnings: warnings.length, accept_errors: stats.accept_errors };
    expect(seen.error, JSON.stringify(seen)).toBe('accept_failed');
    expect(seen.warnings, JSON.stringify(seen)).toBeGreaterThanOrEqual(1);
    // Rate-limited: one line a second at most, so a burst of 150 connects logs a handful.
    expect(seen.warnings, JSON.stringify(seen)).toBeLessThanOrEqual(5);
    expect(seen.accept_errors, JSON.stringify(seen)).toBeGreaterThan(0);
  });

  it('defect 3: 3000 connect/close cycles during a host stall: the last 100 upgrades get 503 and RSS grows < 32 MiB', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start();
    const filler = openRaw(port);
    await filler.head();
    host.stallStdout();
    // Back the event pipe up: 256 × 4 KiB messages is more than the pipe and the reader's buffer hold.
    filler.socket.write(Buffer.concat(Array.from({ length: 256 }, () => clientFrame(0x2, Buffer.alloc(4096)))));
    await sleep(500);
    const before = host.rss();
    // Large headers, as a browser with cookies sends: each event carries them all.
    const request = upgradeRequest(port, { headers: { Cookie: 'c'.repeat(4000), 'User-Agent': 'u'.repeat(1000) } });
    const statuses: string[] = [];
    for (let round = 0; round < 60; round++) {
      const batch = Array.from({ length: 50 }, () => openRaw(port, request));
      const heads = await Promise.all(batch.map((client) => client.head(3000).catch(() => 'none')));
      statuses.push(...heads.map((head) => head.split(' ')[1] ?? head));
      for (const client of batch) client.socket.destroy();
    }
    await sleep(500);
    const deltaMiB = (host.rss() - before) / MiB;
    const last = statuses.slice(-100);
    const refused = last.filter((status) => status === '503').length;
    expect({ refused, deltaMiB: Math.round(deltaMiB) }).toEqual({ refused: 100, deltaMiB: expect.any(Number) });
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB over 3000 cycles`).toBeLessThan(32);
  });
});
