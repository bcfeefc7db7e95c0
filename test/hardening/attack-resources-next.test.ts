/**
 * The next class after issue #12 in the resource limits: places where two of them meet, found
 * after fixing defects 2 and 3. Not in the issue's list of sixteen.
 *
 * C. Host stall × permessage-deflate × many clients: each paused client may make the sidecar
 *    inflate up to 1 MiB for the host (defect 2's bound), so 30 clients queued events for a host
 *    that is not reading far past `max_queued_events` (RSS +53 MiB here; +18 MiB once inflation
 *    also waits while the queue is full: what remains is one message in flight per client).
 * D. Inbound rate limit × many clients: a rate-limited client is read ahead of its rate (so a
 *    close behind its backlog is seen, next A), up to 1 MiB each; 150 such clients held 150 MiB
 *    of read-ahead messages, where the rate limit alone held one socket read (64 KiB) each.
 */
import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import {
  clientFrame,
  compressedBinaryFrame,
  openManyUpgradedRaw,
  sleep,
} from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

const MiB = 1024 * 1024;

describe('issue #12, next class: resource limits that meet', () => {
  it('next C: 30 deflate clients (max_message_size 64 KiB) uploading 7.7 MB each during a host stall grow RSS < 32 MiB (max_queued_events 2 MiB)', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ permessage_deflate: true, max_message_size: 65536, max_queued_events: 2 * MiB });
    const clients = await openManyUpgradedRaw(port, 30, { deflate: true, batch: 10 });
    await host.waitUntilConnected(30, 5000);
    await sleep(300);
    const before = host.rss();
    // The uploads themselves back the event pipe up: every client has compressed frames in ws's
    // hands when the sidecar pauses the sockets.
    host.stallStdout();
    const upload = Buffer.concat(Array.from({ length: 128 }, () => compressedBinaryFrame(Buffer.alloc(60_000, 1))));
    for (const client of clients) client.socket.write(upload);
    await sleep(2500);
    const deltaMiB = (host.rss() - before) / MiB;
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB`).toBeLessThan(32);
    expect(host.child.exitCode).toBeNull();
  });

  it('next D: 150 rate-limited clients sending 1 MiB of small messages each grow RSS < 96 MiB (max_inbound_total 32 MiB)', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ max_messages_per_second: 1, message_burst: 1, max_inbound_total: 32 * MiB });
    const clients = await openManyUpgradedRaw(port, 150, { batch: 25 });
    await host.waitUntilConnected(150, 5000);
    await sleep(300);
    const before = host.rss();
    const backlog = Buffer.concat(Array.from({ length: 1024 }, () => clientFrame(0x2, Buffer.alloc(1024, 3))));
    for (const client of clients) client.socket.write(backlog);
    await sleep(2500);
    const deltaMiB = (host.rss() - before) / MiB;
    expect(deltaMiB, `RSS grew ${deltaMiB.toFixed(0)} MiB`).toBeLessThan(96);
    expect(host.all((e) => e[0] === Event.ERROR).map((e) => e[1]), 'nobody is closed for reading ahead').toEqual([]);
  });
});
