/** Broadcasts and rooms fanned out inside the sidecar. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';

afterEach(stopAllSidecars);

async function connectMany(started: Started, count: number) {
  const result = [];
  for (let i = 0; i < count; i++) result.push(await connect(started));
  return result;
}

/** Sends a marker to every client and waits for it, so anything sent before it has arrived too. */
async function settle(started: Started, clients: Awaited<ReturnType<typeof connectMany>>): Promise<void> {
  started.host.broadcastText('marker');
  await until(() => clients.every(({ client }) => client.texts.at(-1) === 'marker'), 'the marker at every client');
  for (const { client } of clients) client.texts.pop();
}

describe('broadcast and rooms', () => {
  it('broadcasts text and binary to every client', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 4);
    started.host.broadcastText('to all');
    started.host.broadcastBinary(Uint8Array.from([1, 2]));
    await until(() => clients.every(({ client }) => client.texts.length === 1 && client.binaries.length === 1), 'every client to get both');
    for (const { client } of clients) {
      expect(client.texts).toEqual(['to all']);
      expect([...client.binaries[0]!]).toEqual([1, 2]);
    }
  });

  it('broadcasts to everyone but the excluded client', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 3);
    started.host.broadcastText('not you', clients[1]!.id);
    started.host.broadcastBinary(Uint8Array.from([7]), clients[1]!.id);
    await settle(started, clients);
    expect(clients.map(({ client }) => client.texts)).toEqual([['not you'], [], ['not you']]);
    expect(clients.map(({ client }) => client.binaries.length)).toEqual([1, 0, 1]);
  });

  it('sends a room broadcast only to members; a client that left or disconnected gets nothing', async () => {
    const started = await startSidecar();
    const [a, b, c, d] = await connectMany(started, 4);
    for (const member of [a!, b!, c!]) started.host.joinRoom(member.id, 'lobby');
    started.host.leaveRoom(b!.id, 'lobby');
    const gone = nextEvent<[number]>(started.host, 'disconnected', (id) => id === c!.id);
    c!.client.ws.close();
    await gone;
    started.host.roomText('lobby', 'lobby only');
    started.host.roomBinary('lobby', Uint8Array.from([5]));
    started.host.roomText('empty-room', 'nobody');
    const alive = [a!, b!, d!];
    await settle(started, alive);
    expect(alive.map(({ client }) => client.texts)).toEqual([['lobby only'], [], []]);
    expect(alive.map(({ client }) => client.binaries.length)).toEqual([1, 0, 0]);
    expect(c!.client.texts).toEqual([]);
  });

  it('excludes one member from a room broadcast', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 3);
    for (const { id } of clients) started.host.joinRoom(id, 'team');
    started.host.roomText('team', 'others', clients[0]!.id);
    await settle(started, clients);
    expect(clients.map(({ client }) => client.texts)).toEqual([[], ['others'], ['others']]);
  });

  it('counts rooms and clients in stats', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 2);
    started.host.joinRoom(clients[0]!.id, 'x');
    started.host.joinRoom(clients[1]!.id, 'y');
    const stats = await started.host.stats();
    expect(stats).toMatchObject({ clients: 2, rooms: 2, pending_requests: 0, paused: false });
    expect(stats.rss).toBeGreaterThan(0);
  });
});
