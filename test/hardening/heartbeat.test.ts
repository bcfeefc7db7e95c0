/**
 * Heartbeats whose timeout is longer than their interval (found by the soak:
 * with interval 10 s and timeout 30 s every client was dropped after 30 s).
 * A ping's timeout must judge that ping, not a newer one still in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars } from '../support/harness.js';
import { RawClient } from '../support/raw-client.js';

afterEach(stopAllSidecars);

describe('heartbeats with a timeout longer than the interval', () => {
  // Timeouts that are exact multiples of the interval always tripped the old bug; they are
  // generous enough that a busy machine's slow pong is not mistaken for it.
  it.each([
    [250, 1000],
    [300, 900],
  ])('interval %i ms, timeout %i ms: responsive clients are kept for 3.5 s', async (interval, timeout) => {
    const started = await startSidecar({ heartbeat_interval_ms: interval, heartbeat_timeout_ms: timeout });
    const dropped: string[] = [];
    started.host.on('errorReported', (code, message) => dropped.push(`${code}: ${message}`));
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(started)));
    let pings = 0;
    clients[0]!.client.ws.on('ping', () => pings++);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(dropped).toEqual([]);
    expect(clients.every(({ client }) => client.closeCode === undefined)).toBe(true);
    expect(pings).toBeGreaterThan(4);
    expect((await started.host.stats()).clients).toBe(10);
  });

  it('still drops a client that stops answering, within interval + timeout', async () => {
    const started = await startSidecar({ heartbeat_interval_ms: 100, heartbeat_timeout_ms: 300 });
    // A raw client never answers pings.
    const raw = await RawClient.open(started.listening.port);
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported', (code) => code === 'heartbeat_timeout');
    const startedAt = performance.now();
    const disconnected = nextEvent<[number, number]>(started.host, 'disconnected');
    await error;
    expect((await disconnected)[1]).toBe(1006);
    expect(performance.now() - startedAt).toBeLessThan(100 + 300 + 700);
    raw.destroy();
  });
});
