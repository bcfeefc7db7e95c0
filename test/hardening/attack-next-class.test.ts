/**
 * The next class after issue #12: more places where two limits meet, found
 * by the same attack pass. Not in the list of sixteen.
 *
 * A. Inbound rate limit × a client that leaves: a rate-limited client's
 *    socket is paused, so its FIN is not read until its backlog drains at the
 *    rate; it stays a client (a `max_clients` slot, its inflated backlog) long
 *    after it went, and PROTOCOL.md says its queued messages reach the host
 *    "at once" when it disconnects.
 * B. Close timeout × `max_clients`: clients that sent a close frame but keep
 *    TCP open still hold their slots, so every new upgrade gets 503 until the
 *    close times out.
 */
import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import {
  clientFrame,
  closePayload,
  deflateBomb,
  openManyUpgradedRaw,
  openRaw,
  openUpgradedRaw,
  sleep,
} from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

const MiB = 1024 * 1024;
const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

describe('issue #12, next class: limits that meet', () => {
  it('next A: 10 rate-limited clients (1 msg/s) that send 90 × 1 KiB and close are all reported within 3 s, stats.clients 0', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ max_messages_per_second: 1, message_burst: 1 });
    const clients = await openManyUpgradedRaw(port, 10);
    await host.waitUntilConnected(10, 3000);
    // 90 KiB each: more than one socket read (64 KiB), less than the ~100 KiB PROTOCOL.md promises at a close.
    const backlog = Buffer.concat(Array.from({ length: 90 }, (_, i) => clientFrame(OPCODE_TEXT, `message ${i} `.padEnd(1024, '.'))));
    for (const client of clients) client.socket.end(Buffer.concat([backlog, clientFrame(OPCODE_CLOSE, closePayload(1000, 'done'))]));
    const reported = await host.waitUntil(() => (host.all(Event.CLIENT_DISCONNECTED).length >= 10 ? true : undefined), 3000);
    const stats = await host.stats(31, 3000);
    const seen = { disconnected: host.all(Event.CLIENT_DISCONNECTED).length, clients: stats.clients, texts: host.all(Event.TEXT).length };
    expect(reported, JSON.stringify(seen)).toBe(true);
    // What they sent was received: the host gets all of it, at once, before each client_disconnected.
    expect(seen).toEqual({ disconnected: 10, clients: 0, texts: 900 });
  });

  it('next A: 10 rate-limited deflate clients that upload 300 KiB compressed and go hold < 64 MiB RSS 3 s later', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ permessage_deflate: true, max_messages_per_second: 1, message_burst: 1 });
    const clients = await openManyUpgradedRaw(port, 10, { deflate: true });
    await host.waitUntilConnected(10, 3000);
    await sleep(300);
    const before = host.rss();
    const bomb = deflateBomb();
    for (const client of clients) client.socket.write(bomb);
    await sleep(500);
    for (const client of clients) client.socket.destroy();
    await sleep(3000);
    const deltaMiB = (host.rss() - before) / MiB;
    const stats = await host.stats(32, 3000);
    expect({ clients: stats.clients }, `RSS ${deltaMiB.toFixed(0)} MiB above the start`).toEqual({ clients: 0 });
    expect(deltaMiB).toBeLessThan(64);
  });

  it('next B: with max_clients 5 held by 5 clients that sent close but keep TCP open, a new upgrade is admitted within 1500 ms', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ max_clients: 5 });
    const holders = [];
    for (let i = 0; i < 5; i++) holders.push(await openUpgradedRaw(port));
    for (const holder of holders) holder.socket.write(clientFrame(OPCODE_CLOSE, closePayload(1000, 'bye')));
    const sentAt = Date.now();
    let admittedAfterMs: number | undefined;
    while (Date.now() - sentAt < 1500 && admittedAfterMs === undefined) {
      const client = openRaw(port);
      const head = await client.head(1000).catch(() => 'none');
      if (head.startsWith('HTTP/1.1 101')) admittedAfterMs = Date.now() - sentAt;
      client.socket.destroy();
      await sleep(100);
    }
    expect(admittedAfterMs, `every upgrade got 503 for 1500 ms; ${host.describe(3)}`).toBeDefined();
  });
});
