/** Presence against a real redis-server: what one server writes, what another reads, and expiry. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterPresence, type LocalState } from '../../sidecar/cluster-presence.js';
import { RedisServer } from '../support/redis-server.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.dispose();
});

function state(clients: number[], rooms: Record<string, number[]>): LocalState {
  return { clientIds: () => clients, rooms: () => Object.entries(rooms) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ClusterPresence', () => {
  it('writes the whole local state, follows changes, and reads every server back', async () => {
    await redis.flushall();
    const one = new ClusterPresence(redis, 1, 10_000, state([11, 12], { lobby: [11] }));
    const two = new ClusterPresence(redis, 2, 10_000, state([21], { lobby: [21], team: [21] }));
    await one.start();
    await two.start();
    expect(await one.roomMembers('lobby')).toEqual([11, 21]);
    expect(await two.clientsPerServer()).toEqual(new Map([[1, 2], [2, 1]]));
    one.joined('team', 12);
    one.clientAdded(13);
    two.left('lobby', 21, true);
    expect(await two.roomMembers('team')).toEqual([12, 21]);
    expect(await two.roomMembers('lobby')).toEqual([11]);
    expect((await one.clientsPerServer()).get(1)).toBe(3);
    await two.leave();
    expect(await one.roomMembers('team')).toEqual([12]);
    expect(await one.clientsPerServer()).toEqual(new Map([[1, 3]]));
    one.stop();
  });

  it('forgets a server that stopped beating within its TTL, and raises the node counter past live nodes', async () => {
    await redis.flushall();
    const live = new ClusterPresence(redis, 7, 300, state([70], { arena: [70] }));
    const dead = new ClusterPresence(redis, 8, 300, state([80], { arena: [80] }));
    await live.start();
    await dead.start();
    dead.stop(); // as if killed: no more heartbeats, no goodbye
    expect(await live.roomMembers('arena')).toEqual([70, 80]);
    await sleep(600);
    expect(await live.roomMembers('arena')).toEqual([70]);
    expect(await redis.smembers('gws:nodes')).toEqual(['7']);
    expect(Number(await redis.get('gws:node_seq'))).toBe(8);
    live.stop();
  });

  it('rewrites a state that Redis lost', async () => {
    await redis.flushall();
    const presence = new ClusterPresence(redis, 3, 10_000, state([31, 32], { room: [31, 32] }));
    await presence.start();
    await redis.flushall();
    expect(await presence.roomMembers('room')).toEqual([]);
    await presence.rewrite();
    expect(await presence.roomMembers('room')).toEqual([31, 32]);
    presence.stop();
  });
});
