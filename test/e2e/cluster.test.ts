/**
 * The cluster end to end: real sidecar processes joined through a real redis-server, real
 * WebSocket clients on each. Broadcasts, room broadcasts, sends and disconnects across servers,
 * exclusion across servers, ids and presence.
 */
import { describe, expect, it } from 'vitest';
import { requestClusterStats, requestRoomMembers } from '../../host/cluster-requests.js';
import { StartFailedError } from '../../host/sidecar-host.js';
import { connect, startSidecar, until, type RecordingClient, type Started } from '../support/harness.js';
import { untilAsync } from '../support/eventually.js';
import { useClusterRedis } from '../support/cluster-setup.js';
import { freePort } from '../support/redis-server.js';

const redis = useClusterRedis();

type Connected = { client: RecordingClient; id: number };

async function servers(count: number): Promise<Started[]> {
  const result: Started[] = [];
  for (let i = 0; i < count; i++) result.push(await startSidecar({ cluster_url: redis().url }));
  return result;
}

/** Broadcasts a marker cluster-wide from `from` and waits until every client got it, so all sent before it arrived. */
async function settle(from: Started, clients: Connected[]): Promise<void> {
  from.host.broadcastText('marker');
  await until(() => clients.every(({ client }) => client.texts.at(-1) === 'marker'), 'the marker at every client');
  for (const { client } of clients) client.texts.pop();
}

describe('cluster', () => {
  it('refuses to start when Redis cannot be reached, naming the URL', async () => {
    const url = `redis://:secret@127.0.0.1:${await freePort()}`;
    const failure = await startSidecar({ cluster_url: url }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartFailedError);
    expect((failure as StartFailedError).code).toBe('cluster_unavailable');
    expect((failure as StartFailedError).message).toContain(`redis://:***@127.0.0.1:`);
    expect((failure as StartFailedError).message).not.toContain('secret');
  });

  it('gives each server a node number in the high bits of its client ids, all below 2^53', async () => {
    const [a, b] = await servers(2);
    const [ca, cb] = [await connect(a!), await connect(b!)];
    const nodeA = Math.floor(ca.id / 2 ** 32);
    const nodeB = Math.floor(cb.id / 2 ** 32);
    expect(nodeA).toBeGreaterThan(0);
    expect(nodeB).toBeGreaterThan(0);
    expect(nodeA).not.toBe(nodeB);
    expect(ca.id % 2 ** 32).toBe(1);
    expect(Number.isSafeInteger(ca.id) && Number.isSafeInteger(cb.id)).toBe(true);
  });

  it('reaches a room on every server, and nobody outside it', async () => {
    const [a, b, c] = await servers(3);
    const members = [await connect(a!), await connect(b!), await connect(c!), await connect(c!)];
    const outsiders = [await connect(a!), await connect(b!)];
    a!.host.joinRoom(members[0]!.id, 'lobby');
    b!.host.joinRoom(members[1]!.id, 'lobby');
    c!.host.joinRoom(members[2]!.id, 'lobby');
    c!.host.joinRoom(members[3]!.id, 'lobby');
    await untilAsync(async () => (await requestRoomMembers(a!.host, 'lobby')).length === 4, 'presence of the four members');
    b!.host.roomText('lobby', 'hi lobby');
    b!.host.roomBinary('lobby', Uint8Array.from([1, 2, 3]));
    await until(() => members.every(({ client }) => client.texts.length === 1 && client.binaries.length === 1), 'every member to get both');
    await settle(a!, [...members, ...outsiders]);
    for (const { client } of members) expect(client.texts).toEqual(['hi lobby']);
    for (const { client } of outsiders) expect([client.texts, client.binaries.length]).toEqual([[], 0]);
  });

  it('broadcasts to every client of every server, exclusion working across servers', async () => {
    const [a, b] = await servers(2);
    const clients = [await connect(a!), await connect(a!), await connect(b!), await connect(b!)];
    a!.host.broadcastText('to all');
    a!.host.broadcastText('not you', clients[3]!.id);
    a!.host.roomText('nobody-here', 'lost');
    b!.host.broadcastBinary(Uint8Array.from([9]), clients[0]!.id);
    // Order holds per publishing server only: each settles what it sent.
    await settle(a!, clients);
    await settle(b!, clients);
    expect(clients.map(({ client }) => client.texts)).toEqual([['to all', 'not you'], ['to all', 'not you'], ['to all', 'not you'], ['to all']]);
    expect(clients.map(({ client }) => client.binaries.length)).toEqual([0, 1, 1, 1]);
  });

  it('excludes a client of another server from a room broadcast', async () => {
    const [a, b] = await servers(2);
    const [ma, mb] = [await connect(a!), await connect(b!)];
    a!.host.joinRoom(ma.id, 'team');
    b!.host.joinRoom(mb.id, 'team');
    await untilAsync(async () => (await requestRoomMembers(a!.host, 'team')).length === 2, 'presence of both members');
    a!.host.roomText('team', 'not for b', mb.id);
    a!.host.roomText('team', 'for both');
    await until(() => mb.client.texts.length === 1 && ma.client.texts.length === 2, 'both messages');
    expect(mb.client.texts).toEqual(['for both']);
  });

  it('sends to and disconnects a client of another server', async () => {
    const [a, b] = await servers(2);
    const remote = await connect(b!);
    a!.host.sendText(remote.id, 'hello from a');
    a!.host.sendBinary(remote.id, Uint8Array.from([4, 5]));
    await until(() => remote.client.texts.length === 1 && remote.client.binaries.length === 1, 'the remote client to get both');
    expect(remote.client.texts).toEqual(['hello from a']);
    const reported: string[] = [];
    a!.host.on('errorReported', (code) => reported.push(code));
    a!.host.disconnect(remote.id, 1000, 'x'.repeat(124));
    a!.host.disconnect(remote.id, 4001, 'kicked from a');
    expect(await remote.client.closed()).toBe(4001);
    expect(remote.client.closeReason).toBe('kicked from a');
    expect(reported).toEqual(['invalid_argument']);
  });

  it('answers unknown_client for a client of a server that is not in the cluster', async () => {
    const [a] = await servers(1);
    const gone = 2_000_000 * 2 ** 32 + 1;
    const reported: Array<[string, number]> = [];
    a!.host.on('errorReported', (code, _message, id) => reported.push([code, id]));
    a!.host.sendText(gone, 'anyone?');
    await until(() => reported.length === 1, 'the error');
    expect(reported).toEqual([['unknown_client', gone]]);
  });

  it('reports presence: room members and clients per server, across servers', async () => {
    const [a, b, c] = await servers(3);
    const ids = [(await connect(a!)).id, (await connect(b!)).id, (await connect(b!)).id];
    await connect(c!);
    a!.host.joinRoom(ids[0]!, 'presence');
    b!.host.joinRoom(ids[2]!, 'presence');
    await untilAsync(async () => (await requestRoomMembers(c!.host, 'presence')).length === 2, 'presence of both members');
    expect(await requestRoomMembers(c!.host, 'presence')).toEqual([ids[0], ids[2]].sort((x, y) => x! - y!));
    b!.host.leaveRoom(ids[2]!, 'presence');
    await untilAsync(async () => (await requestRoomMembers(a!.host, 'presence')).length === 1, 'the leave to show');
    const stats = await requestClusterStats(a!.host);
    expect(stats).toMatchObject({ enabled: true, connected: true, servers: 3, clients: 4 });
    expect(Object.values(stats.clients_per_server).sort()).toEqual([1, 1, 2]);
    expect(stats.clients_per_server[String(stats.node)]).toBe(1);
  });

  it('answers presence requests for this server alone without a cluster', async () => {
    const alone = await startSidecar();
    const { id } = await connect(alone);
    alone.host.joinRoom(id, 'solo');
    expect(await requestRoomMembers(alone.host, 'solo')).toEqual([id]);
    expect(id).toBe(1);
    expect(await requestClusterStats(alone.host)).toEqual({ enabled: false, connected: false, node: 0, servers: 1, clients: 1, clients_per_server: { '0': 1 } });
  });

  it('holds the commands behind a start until Redis is joined, so they keep their order', async () => {
    const { host } = await startSidecar();
    await host.stop();
    const [listening, stats] = await Promise.all([host.start({ port: 0, host: '127.0.0.1', cluster_url: redis().url }), requestClusterStats(host)]);
    expect(listening.port).toBeGreaterThan(0);
    expect(stats).toMatchObject({ enabled: true });
    expect(stats.node).toBeGreaterThan(0);
  });

  it('answers already_listening to a cluster start while listening alone, ids unchanged', async () => {
    const alone = await startSidecar();
    await connect(alone);
    const failure = await alone.host.start({ cluster_url: redis().url }).catch((error: unknown) => error);
    expect((failure as StartFailedError).code).toBe('already_listening');
    expect((await connect(alone)).id).toBe(2);
    expect(await requestClusterStats(alone.host)).toMatchObject({ enabled: false, node: 0 });
  });
});
