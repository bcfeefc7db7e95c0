/**
 * 5,000 connect/disconnect cycles: the sidecar's memory (VmRSS) and open
 * file descriptors return to their baseline, and every client was reported
 * connected and disconnected exactly once.
 */
import { readdirSync } from 'node:fs';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startSidecar, stopAllSidecars, until } from '../support/harness.js';
import { residentBytes } from '../support/process-stats.js';

afterEach(stopAllSidecars);

const CYCLES = Number(process.env.CHURN_CYCLES ?? '5000');
/**
 * V8 and malloc keep the pages they grew into: RSS climbs during the first
 * couple of thousand cycles and then stays flat (measured: 58 MiB after 500
 * cycles, 93 MiB after 5,000 and still 93 MiB after 20,000). The baseline is
 * taken after a warm-up, and the tolerance below covers the rest of that
 * high-water mark.
 */
const WARMUP = Number(process.env.CHURN_WARMUP ?? '1000');
const CONCURRENCY = 25;
/**
 * RSS tolerance. RSS is what the issue names, but it is a coarse signal: V8's
 * young generation alone may grow by up to 3 x 16 MiB and keep those pages.
 * Measured here: +21 MiB after 5,000 cycles, and the same level after 20,000,
 * so a real leak shows as growth past this bound with more cycles. The exact
 * proof that no JavaScript object leaks per client is churn-heap.test.ts,
 * which compares the heap after forced collections.
 */
const RSS_TOLERANCE_BYTES = 32 * 1024 * 1024;
/** Descriptors must come back exactly; 2 of slack for a socket the kernel is still closing. */
const FD_TOLERANCE = 2;


function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function cycle(url: string, count: number, onError: (why: string) => void): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next++;
        const ws = new WebSocket(url);
        await new Promise<void>((resolve) => {
          ws.once('open', () => ws.close(1000, 'bye'));
          ws.once('error', (error) => onError(error.message));
          ws.once('close', () => resolve());
        });
      }
    }),
  );
}

describe('connect/disconnect churn', () => {
  it(`returns memory and open handles to baseline after ${CYCLES} connect/disconnect cycles`, async () => {
    const started = await startSidecar();
    const pid = started.host.child.pid!;
    const errors: string[] = [];
    let connected = 0;
    const disconnects = new Map<number, number>();
    started.host.on('connected', () => connected++);
    started.host.on('disconnected', (id, code) => disconnects.set(id, (disconnects.get(id) ?? 0) + 1 + (code === 1000 ? 0 : 1000)));
    started.host.on('errorReported', (code, message) => errors.push(`${code}: ${message}`));
    const settle = async (expected: number): Promise<void> => {
      await until(() => disconnects.size === expected, `${expected} disconnects`, 30_000);
      const stats = await started.host.stats();
      expect(stats.clients).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 500));
    };

    await cycle(started.url, WARMUP, (why) => errors.push(why));
    await settle(WARMUP);
    const rssBaseline = residentBytes(pid);
    const fdBaseline = openFds(pid);

    const startedAt = performance.now();
    let rssPeak = rssBaseline;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, residentBytes(pid))), 200);
    await cycle(started.url, CYCLES, (why) => errors.push(why));
    clearInterval(sampler);
    const elapsedMs = performance.now() - startedAt;
    await settle(WARMUP + CYCLES);
    // Memory freed by the last clients comes back at V8's next collections; give it a moment.
    let rssAfter = residentBytes(pid);
    for (let i = 0; i < 20 && rssAfter > rssBaseline + RSS_TOLERANCE_BYTES; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rssAfter = residentBytes(pid);
    }
    await until(() => openFds(pid) <= fdBaseline + FD_TOLERANCE, 'descriptors back to baseline', 5000).catch(() => {});
    const fdAfter = openFds(pid);
    const mib = (bytes: number): number => +(bytes / 2 ** 20).toFixed(1);
    console.log(
      `churn: ${JSON.stringify({ cycles: CYCLES, seconds: +(elapsedMs / 1000).toFixed(1), rssBaselineMiB: mib(rssBaseline), rssPeakMiB: mib(rssPeak), rssAfterMiB: mib(rssAfter), fdBaseline, fdAfter })}`,
    );
    expect(errors).toEqual([]);
    expect(connected).toBe(WARMUP + CYCLES);
    expect([...disconnects.values()].every((n) => n === 1)).toBe(true); // once each, with 1000
    expect(rssAfter).toBeLessThanOrEqual(rssBaseline + RSS_TOLERANCE_BYTES);
    expect(fdAfter).toBeLessThanOrEqual(fdBaseline + FD_TOLERANCE);
  }, 180_000);
});
