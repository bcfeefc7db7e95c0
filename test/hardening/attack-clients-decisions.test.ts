/**
 * Issue #12, "decide, document and test": what the sidecar does with a
 * ping-flooding client, an absolute-form request target, and unfinished
 * fragmented messages from many clients at once. The decisions are written
 * in protocol/PROTOCOL.md; these tests hold the sidecar to them.
 */
import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import { clientFrame, openManyUpgradedRaw, openUpgradedRaw, sleep, upgradeRequest } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

const MiB = 1024 * 1024;
const OPCODE_BINARY = 0x2;
const OPCODE_PING = 0x9;

describe('issue #12: decisions about hostile clients', () => {
  it('decision: a client flooding 200,000 pings without reading is closed 1008 with an outbound_overflow error', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start();
    const client = await openUpgradedRaw(port);
    const id = (await host.next(Event.CLIENT_CONNECTED))[1] as number;
    client.socket.pause();
    const burst = Buffer.concat(Array.from({ length: 1000 }, () => clientFrame(OPCODE_PING, Buffer.alloc(125, 1))));
    for (let i = 0; i < 200 && host.all(Event.CLIENT_DISCONNECTED).length === 0; i++) {
      client.socket.write(burst);
      if (i % 10 === 0) await sleep(10);
    }
    const gone = await host.next((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 5000);
    const errors = host.all((e) => e[0] === Event.ERROR && e[3] === id).map((e) => e[1]);
    expect({ errors, code: gone[2] }).toEqual({ errors: ['outbound_overflow'], code: 1008 });
  });

  it('decision: an absolute-form target (GET http://evil.example/x?q=1) is reported as path "/x", query "q=1"', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start();
    await openUpgradedRaw(port, upgradeRequest(port, { target: 'http://evil.example/x?q=1' })).catch(() => undefined);
    const connected = await host.find(Event.CLIENT_CONNECTED, 2000);
    const info = (connected?.[2] ?? {}) as { path?: string; query?: string };
    expect({ path: info.path, query: info.query }, host.describe()).toEqual({ path: '/x', query: 'q=1' });
  });

  it('decision: 150 clients holding 1,000,000-byte unfinished fragments grow RSS < 96 MiB (max_inbound_total 64 MiB), the rest closed as inbound_overflow', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start();
    const clients = await openManyUpgradedRaw(port, 150, { batch: 25 });
    await host.waitUntilConnected(150, 5000);
    await sleep(300);
    const before = host.rss();
    // A first fragment (FIN clear) just under max_message_size: the message is never finished.
    const fragment = clientFrame(OPCODE_BINARY, Buffer.alloc(1_000_000, 7), false);
    for (const client of clients) client.socket.write(fragment);
    await sleep(3000);
    const deltaMiB = (host.rss() - before) / MiB;
    const overflows = host.all((e) => e[0] === Event.ERROR && e[1] === 'inbound_overflow').length;
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB, ${overflows} inbound_overflow errors`).toBeLessThan(96);
    expect(overflows).toBeGreaterThanOrEqual(150 - 67);
  });
});
