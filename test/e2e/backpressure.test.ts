/** Backpressure both ways: a client that stops reading, and a host that stops reading stdout. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars, until } from '../support/harness.js';
import { residentBytes } from '../support/process-stats.js';
import { RawClient } from '../support/raw-client.js';

afterEach(stopAllSidecars);


describe('backpressure', () => {
  it('closes a client that stops reading with 1008 once its outbound buffer passes the limit', async () => {
    const started = await startSidecar({ max_outbound_buffer: 256 * 1024 });
    const connected = nextEvent<[number]>(started.host, 'connected');
    const { socket } = await RawClient.open(started.listening.port);
    const [id] = await connected;
    socket.pause(); // never read again: the kernel buffers fill, then the sidecar's queue grows
    let overflowed = false;
    const overflow = nextEvent<[string, string, number]>(started.host, 'errorReported', (code) => code === 'outbound_overflow');
    void overflow.then(() => (overflowed = true));
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    while (sent < 2000) {
      for (let i = 0; i < 20; i++, sent++) started.host.sendBinary(id, chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (overflowed) break;
    }
    const [, message, overflowId] = await overflow;
    expect(overflowId).toBe(id);
    expect(message).toMatch(/not reading/);
    const [goneId, code] = await disconnected;
    expect([goneId, code]).toEqual([id, 1008]);
    expect(sent).toBeLessThan(2000); // bounded long before 125 MB were queued
    socket.destroy();
  });

  it('pauses clients while the host is not reading stdout, then delivers every message once, in order', async () => {
    const started = await startSidecar();
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(started)));
    const received = new Map<number, number[]>();
    started.host.on('text', (id, text) => {
      let list = received.get(id);
      if (list === undefined) received.set(id, (list = []));
      list.push(Number(text.slice(0, text.indexOf(':'))));
    });
    const pid = started.host.child.pid!;
    const baseline = residentBytes(pid);
    started.host.setReading(false);
    const perClient = 2000;
    const padding = 'x'.repeat(1000);
    for (const { client } of clients) {
      for (let i = 0; i < perClient; i++) client.ws.send(`${i}:${padding}`);
    }
    let peak = baseline;
    for (let t = 0; t < 30; t++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peak = Math.max(peak, residentBytes(pid));
    }
    started.host.setReading(true);
    await until(() => clients.every(({ id }) => received.get(id)?.length === perClient), 'every message after the host resumed', 30_000);
    for (const { id } of clients) expect(received.get(id)).toEqual(Array.from({ length: perClient }, (_, i) => i));
    const stats = await started.host.stats();
    expect(stats.messages_in).toBe(clients.length * perClient);
    // 40 MB were sent while the host slept; the sidecar held only a bounded part of it.
    expect(peak - baseline).toBeLessThan(40 * 1024 * 1024);
  });
});
