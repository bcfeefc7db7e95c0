/**
 * The sidecar half of Godot's high-level multiplayer (PROTOCOL.md, "Multiplayer peer ids"): with
 * `multiplayer_peer_ids` each client's first message is its peer id (client id + 1, int32 LE),
 * then packets pass through untouched both ways and a broadcast is fanned out in the sidecar.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, RecordingClient, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';

afterEach(stopAllSidecars);

function peerIdOf(message: Buffer | undefined): number {
  expect(message?.length).toBe(4);
  return message!.readInt32LE(0);
}

async function connectMany(started: Started, count: number) {
  const result = [];
  for (let i = 0; i < count; i++) result.push(await connect(started));
  return result;
}

describe('multiplayer_peer_ids', () => {
  it('sends each client its peer id (client id + 1) first, before the host can answer client_connected', async () => {
    const started = await startSidecar({ multiplayer_peer_ids: true });
    // The host answers every client_connected at once; the id must still arrive before it.
    started.host.on('connected', (id: number) => started.host.sendBinary(id, Uint8Array.from([0xee])));
    const clients = await connectMany(started, 3);
    await until(() => clients.every(({ client }) => client.binaries.length === 2), 'the id and the welcome at every client');
    for (const { client, id } of clients) {
      expect(peerIdOf(client.binaries[0])).toBe(id + 1);
      expect([...client.binaries[1]!]).toEqual([0xee]);
      expect(client.texts).toEqual([]);
    }
    expect(clients.map(({ client }) => peerIdOf(client.binaries[0]))).toEqual([2, 3, 4]);
  });

  it('gives a client its id even while the host is not reading', async () => {
    const started = await startSidecar({ multiplayer_peer_ids: true });
    started.host.setReading(false);
    const client = await new RecordingClient(started.url).opened();
    await until(() => client.binaries.length === 1, 'the id with the host stalled');
    expect(peerIdOf(client.binaries[0])).toBeGreaterThanOrEqual(2);
    started.host.setReading(true);
  });

  it('passes packets through untouched both ways after the id', async () => {
    const started = await startSidecar({ multiplayer_peer_ids: true });
    const { client, id } = await connect(started);
    await until(() => client.binaries.length === 1, 'the id');
    const packet = Uint8Array.from([0, 1, 2, 3, 0xff, 0x80, 4]);
    const received = nextEvent<[number, Uint8Array]>(started.host, 'binary', (from) => from === id);
    client.ws.send(packet);
    const [, data] = await received;
    expect([...data]).toEqual([...packet]);
    started.host.sendBinary(id, packet);
    await until(() => client.binaries.length === 2, 'the packet back');
    expect([...client.binaries[1]!]).toEqual([...packet]);
  });

  it('fans a broadcast out in the sidecar, with one client excluded', async () => {
    const started = await startSidecar({ multiplayer_peer_ids: true });
    const clients = await connectMany(started, 4);
    await until(() => clients.every(({ client }) => client.binaries.length === 1), 'every id');
    started.host.broadcastBinary(Uint8Array.from([9, 9]), clients[2]!.id);
    started.host.broadcastBinary(Uint8Array.from([8]));
    await until(() => clients.every(({ client }) => client.binaries.at(-1)?.[0] === 8), 'the second broadcast everywhere');
    expect(clients.map(({ client }) => client.binaries.slice(1).map((b) => [...b]))).toEqual([
      [[9, 9], [8]],
      [[9, 9], [8]],
      [[8]],
      [[9, 9], [8]],
    ]);
  });

  it('sends nothing of its own when the option is off', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    started.host.sendText(id, 'marker');
    await until(() => client.texts.length === 1, 'the marker');
    expect(client.binaries).toEqual([]);
  });

  it('refuses a value that is not a bool', async () => {
    await expect(startSidecar({ multiplayer_peer_ids: 1 as unknown as boolean })).rejects.toThrow(/multiplayer_peer_ids/);
  });
});
