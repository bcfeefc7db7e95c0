/**
 * Issue #12, attacks on the closing handshake: clients that start or answer
 * a close but keep TCP open, or never answer at all. Defects 6 and 14 and
 * the `clean` decision; `close_timeout_ms` and `client_closing` are proposed
 * in protocol/PROTOCOL.md.
 */
import { describe, expect, it } from 'vitest';
import { Command, Event } from '../../protocol/constants.js';
import { clientFrame, closePayload, openUpgradedRaw, pollUntil, serverFrames, sleep } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;

/** An unmasked text frame: a protocol error (1002) no conforming client sends. */
const UNMASKED_TEXT = Buffer.from([0x81, 0x02, 0x68, 0x69]);

async function connected(extra: Record<string, number> = {}) {
  const host = await AttackHost.spawn();
  const { port } = await host.start(extra);
  const client = await openUpgradedRaw(port);
  const id = (await host.next(Event.CLIENT_CONNECTED))[1] as number;
  return { host, port, client, id };
}

describe('issue #12: closing handshakes', () => {
  it('defect 6: stop answers stopped within 1500 ms while a client that broke the protocol keeps TCP open', async () => {
    const { host, client } = await connected();
    client.socket.write(UNMASKED_TEXT);
    await host.next(Event.ERROR, 2000);
    const from = host.events.length;
    const sentAt = Date.now();
    host.send(Command.STOP);
    const stopped = await host.find(Event.STOPPED, 1500, from);
    expect(stopped, `no stopped ${Date.now() - sentAt} ms after stop`).toBeDefined();
  });

  it('defect 6: a client that sent close 1000 but keeps TCP open is reported within 1500 ms', async () => {
    const { host, client, id } = await connected();
    client.socket.write(clientFrame(OPCODE_CLOSE, closePayload(1000, 'bye')));
    const gone = await host.find((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 1500);
    expect(gone?.slice(1), host.describe()).toEqual([id, 1000, 'bye', true]);
  });

  it('defect 6: a host disconnect of a client that never answers the close is reported within 1500 ms (close_timeout_ms 1000)', async () => {
    const { host, id } = await connected();
    host.send(Command.DISCONNECT, id, 4000, 'kicked');
    const gone = await host.find((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 1500);
    expect(gone?.slice(1), host.describe()).toEqual([id, 4000, 'kicked', false]);
  });

  it('defect 6: close_timeout_ms 300 reports a silent client within 800 ms', async () => {
    const { host, id } = await connected({ close_timeout_ms: 300 });
    host.send(Command.DISCONNECT, id, 4000, 'kicked');
    const gone = await host.find((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 800);
    expect(gone, host.describe()).toBeDefined();
  });

  it('defect 6: send_text to a client that is closing answers client_closing (1 error, 0 messages sent)', async () => {
    const { host, client, id } = await connected();
    client.socket.write(clientFrame(OPCODE_CLOSE, closePayload(1000, 'bye')));
    await sleep(200);
    const from = host.events.length;
    host.send(Command.SEND_TEXT, id, 'into the void');
    const error = await host.find(Event.ERROR, 1000, from);
    await sleep(100);
    const texts = serverFrames(client.received()).filter((f) => f.opcode === OPCODE_TEXT);
    expect(texts.length).toBe(0);
    expect(error?.slice(1, 2), host.describe()).toEqual(['client_closing']);
    expect(error?.[3]).toBe(id);
  });

  it('defect 14: stop reports close 1000 "bye" (not 1001) for a client that had already sent it', async () => {
    const { host, client, id } = await connected();
    client.socket.write(clientFrame(OPCODE_CLOSE, closePayload(1000, 'bye')));
    // The close frame is on the wire; wait for the server's answering close so it was surely read.
    await pollUntil(() => serverFrames(client.received()).some((f) => f.opcode === OPCODE_CLOSE), 1000);
    await sleep(50);
    host.send(Command.STOP);
    const gone = await host.next((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 3000);
    expect(gone.slice(1)).toEqual([id, 1000, 'bye', true]);
  });

  it('decision: a client that answers the server\'s 1002 with a close frame is reported clean (true)', async () => {
    const { host, client, id } = await connected();
    client.socket.write(UNMASKED_TEXT);
    await pollUntil(() => serverFrames(client.received()).some((f) => f.opcode === OPCODE_CLOSE), 2000);
    client.socket.write(clientFrame(OPCODE_CLOSE, closePayload(1002)));
    await sleep(50);
    client.socket.end();
    const gone = await host.next((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 3000);
    expect(gone.slice(2, 5)).toEqual([1002, expect.any(String), true]);
  });

  it('next: a client that half-closes (FIN) without reading, 24 MiB queued for it (under max_outbound_buffer 32 MiB), is reported within 1500 ms', async () => {
    const { host, client, id } = await connected({ max_outbound_buffer: 32 * 1024 * 1024 });
    client.socket.pause();
    // Beyond what the loopback buffers take, below max_outbound_buffer: most of it stays queued in the sidecar.
    for (let i = 0; i < 24; i++) host.send(Command.SEND_BINARY, id, Buffer.alloc(1024 * 1024, i));
    await sleep(300);
    const finAt = Date.now();
    client.socket.end();
    const gone = await host.find((e) => e[0] === Event.CLIENT_DISCONNECTED && e[1] === id, 1500);
    expect(gone, `no client_disconnected ${Date.now() - finAt} ms after the FIN; ${host.describe(3)}`).toBeDefined();
    expect((await host.stats()).clients).toBe(0);
  });
});
