/**
 * Issue #12, permessage-deflate where it meets the other limits: a paused
 * client (rate limit) whose compressed upload inflates in the sidecar, and an
 * outbound limit that counts bytes before compression. Defects 2 and 5.
 * Memory bounds are on the sidecar's RSS delta (VmRSS), not on time.
 */
import { describe, expect, it } from 'vitest';
import { Command, Event } from '../../protocol/constants.js';
import {
  clientFrame,
  deflateBomb,
  openManyUpgradedRaw,
  openWs,
  pollUntil,
  sleep,
} from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';
import { commandFrame } from '../support/attack-msgpack.js';

cleanUpAfterEachAttack();

const MiB = 1024 * 1024;
const DEFLATE = { perMessageDeflate: { threshold: 0 } };
const BOMB = deflateBomb();

describe('issue #12: permessage-deflate', () => {
  it('defect 2: 10 deflate clients paused by the rate limit, 300 KiB compressed each, hold < 150 MiB RSS', async () => {
    const host = await AttackHost.spawn();
    // One message a second: every client is paused after its first message.
    const { port } = await host.start({ permessage_deflate: true, max_messages_per_second: 1, message_burst: 1 });
    const clients = await openManyUpgradedRaw(port, 10, { deflate: true });
    await host.waitUntilConnected(10, 5000);
    await sleep(300);
    const before = host.rss();
    for (const client of clients) client.socket.write(BOMB);
    await sleep(2500);
    const deltaMiB = (host.rss() - before) / MiB;
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB (${host.all(Event.BINARY).length} messages delivered)`).toBeLessThan(150);
  });

  it('defect 2: 10 deflate clients, 300 KiB compressed each, hold < 150 MiB RSS while the host stalls', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ permessage_deflate: true });
    const clients = await openManyUpgradedRaw(port, 10, { deflate: true });
    await host.waitUntilConnected(10, 5000);
    host.stallStdout();
    // Fill the event pipe (about 1 MiB of small events) so the sidecar pauses every socket.
    clients[0]!.socket.write(Buffer.concat(Array.from({ length: 256 }, () => clientFrame(0x2, Buffer.alloc(4096)))));
    await sleep(500);
    const before = host.rss();
    for (const client of clients.slice(1)) client.socket.write(BOMB);
    await sleep(2500);
    const deltaMiB = (host.rss() - before) / MiB;
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB`).toBeLessThan(150);
  });

  it('defect 5: with deflate on, a reading client gets 300 of 300 messages of a 4.7 MiB burst, 0 outbound_overflow', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ permessage_deflate: true });
    const client = await openWs(port, DEFLATE);
    let received = 0;
    client.on('message', () => received++);
    const id = (await host.next(Event.CLIENT_CONNECTED))[1] as number;
    // 300 × 16.4 KiB = 4.7 MiB, a little over max_outbound_buffer (4 MiB) before compression.
    const text = 'x'.repeat(16_500);
    host.write(Buffer.concat(Array.from({ length: 300 }, () => commandFrame(Command.SEND_TEXT, id, text))));
    await pollUntil(() => received >= 300 || host.all(Event.CLIENT_DISCONNECTED).length > 0, 15_000);
    await sleep(200);
    expect(host.all(Event.ERROR).map((e) => e[1]), `${received} of 300 delivered`).toEqual([]);
    expect(received).toBe(300);
  });
});
