/**
 * Issue #12, a host that stalls (stops reading stdout) while the sidecar's
 * other limits keep running: heartbeats must not blame the clients for the
 * host's stall. Defect 4.
 */
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Event } from '../../protocol/constants.js';
import { openManyWs, sleep } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

/** Stalls the host and has the clients send until the event pipe is surely backed up. */
async function stallWithBackedUpPipe(host: AttackHost, clients: WebSocket[]): Promise<void> {
  host.stallStdout();
  const message = Buffer.alloc(4096, 0x62);
  for (let i = 0; i < 64; i++) for (const ws of clients) ws.send(message);
  await sleep(500);
}

describe('issue #12: a stalled host', () => {
  it('defect 4: a 5 s host stall at heartbeat 1000/1000 ms drops 0 of 5 healthy clients', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start({ heartbeat_interval_ms: 1000, heartbeat_timeout_ms: 1000 });
    const clients = await openManyWs(port, 5);
    const closed: number[] = [];
    clients.forEach((ws) => ws.on('close', (code) => closed.push(code)));
    await host.waitUntilConnected(5, 3000);
    await stallWithBackedUpPipe(host, clients);
    await sleep(5000);
    const eventsBeforeResume = host.events.length;
    host.resumeStdout();
    await sleep(1000);
    const dropped = host.all(Event.CLIENT_DISCONNECTED).length;
    const timeouts = host.all((e) => e[0] === Event.ERROR && e[1] === 'heartbeat_timeout').length;
    expect({ dropped, timeouts, closedAtClients: closed.length }, `${eventsBeforeResume} events before resuming`).toEqual({
      dropped: 0,
      timeouts: 0,
      closedAtClients: 0,
    });
  });
});
