/**
 * Presence: which clients each server of the cluster holds, and in which rooms, kept in Redis
 * under keys that expire `ttlMs` after the server's last heartbeat (every third of it). A server
 * killed without a goodbye therefore drops out within `ttlMs`; `leave` removes it at once.
 * Writes are fire-and-forget: while Redis is away they fail, and `rewrite` puts the whole local
 * state back once it returns.
 *
 * Keys (`n` a node number): `gws:nodes` (set of node numbers), `gws:node:n` (alive marker),
 * `gws:clients:n` (set of client ids), `gws:rooms:n` (set of room names), `gws:room:n:<room>`
 * (set of client ids).
 */
import type { ChainableCommander, Redis } from 'ioredis';

const NODES = 'gws:nodes';
/** The counter node numbers are taken from (cluster.ts). */
export const NODE_SEQ = 'gws:node_seq';
const RAISE_NODE_SEQ = "if tonumber(redis.call('get', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1]) end";
const nodeKey = (node: number | string): string => `gws:node:${node}`;
const clientsKey = (node: number | string): string => `gws:clients:${node}`;
const roomsKey = (node: number | string): string => `gws:rooms:${node}`;
const roomKey = (node: number | string, room: string): string => `gws:room:${node}:${room}`;

/** What this server holds, read when presence is written whole. */
export interface LocalState {
  clientIds(): Iterable<number>;
  rooms(): Iterable<[room: string, clientIds: Iterable<number>]>;
}

export class ClusterPresence {
  private readonly redis: Redis;
  private readonly node: number;
  private readonly ttlMs: number;
  private readonly local: LocalState;
  private timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, node: number, ttlMs: number, local: LocalState) {
    this.redis = redis;
    this.node = node;
    this.ttlMs = ttlMs;
    this.local = local;
  }

  /** Starts the heartbeat and writes the whole local state (which fails while Redis is away: `rewrite` on its return). */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.heartbeat(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    await this.rewrite();
  }

  clientAdded(clientId: number): void {
    this.run((p) => p.sadd(clientsKey(this.node), clientId).pexpire(clientsKey(this.node), this.ttlMs));
  }

  clientRemoved(clientId: number): void {
    this.run((p) => p.srem(clientsKey(this.node), clientId));
  }

  joined(room: string, clientId: number): void {
    const key = roomKey(this.node, room);
    this.run((p) => p.sadd(key, clientId).pexpire(key, this.ttlMs).sadd(roomsKey(this.node), room).pexpire(roomsKey(this.node), this.ttlMs));
  }

  left(room: string, clientId: number, roomEmptied: boolean): void {
    this.run((p) => (roomEmptied ? p.del(roomKey(this.node, room)).srem(roomsKey(this.node), room) : p.srem(roomKey(this.node, room), clientId)));
  }

  /** Replaces everything Redis holds for this server with the local state (at start, and after an outage). */
  async rewrite(): Promise<void> {
    const n = this.node;
    const stale = await this.redis.smembers(roomsKey(n));
    const p = this.redis.multi();
    p.del(clientsKey(n), roomsKey(n), ...stale.map((room) => roomKey(n, room)));
    const ids = [...this.local.clientIds()];
    if (ids.length > 0) p.sadd(clientsKey(n), ...ids).pexpire(clientsKey(n), this.ttlMs);
    for (const [room, members] of this.local.rooms()) {
      p.sadd(roomKey(n, room), ...members).pexpire(roomKey(n, room), this.ttlMs);
      p.sadd(roomsKey(n), room);
    }
    p.pexpire(roomsKey(n), this.ttlMs);
    p.set(nodeKey(n), '1', 'PX', this.ttlMs).sadd(NODES, n);
    // A Redis that restarted empty would hand this node's number to the next server to start.
    p.eval(RAISE_NODE_SEQ, 1, NODE_SEQ, n);
    await p.exec();
  }

  /** Members of `room` on every server present, ascending. */
  async roomMembers(room: string): Promise<number[]> {
    const nodes = await this.redis.smembers(NODES);
    const p = this.redis.pipeline();
    for (const n of nodes) p.exists(nodeKey(n)).smembers(roomKey(n, room));
    const replies = (await p.exec()) ?? [];
    const ids: number[] = [];
    this.forgetDead(nodes, replies, (i) => {
      for (const id of (replies[i * 2 + 1]?.[1] as string[] | undefined) ?? []) ids.push(Number(id));
    });
    return ids.sort((a, b) => a - b);
  }

  /** Client count of every server present, keyed by node number. */
  async clientsPerServer(): Promise<Map<number, number>> {
    const nodes = await this.redis.smembers(NODES);
    const p = this.redis.pipeline();
    for (const n of nodes) p.exists(nodeKey(n)).scard(clientsKey(n));
    const replies = (await p.exec()) ?? [];
    const counts = new Map<number, number>();
    this.forgetDead(nodes, replies, (i) => counts.set(Number(nodes[i]), Number(replies[i * 2 + 1]?.[1] ?? 0)));
    return counts;
  }

  /** Stops the heartbeat and removes this server from presence. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const n = this.node;
    const rooms = await this.redis.smembers(roomsKey(n));
    await this.redis.multi().del(nodeKey(n), clientsKey(n), roomsKey(n), ...rooms.map((room) => roomKey(n, room))).srem(NODES, n).exec();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Calls `alive(i)` for each node whose marker exists, and drops the others from the node set. */
  private forgetDead(nodes: string[], replies: [Error | null, unknown][], alive: (i: number) => void): void {
    const dead: string[] = [];
    nodes.forEach((n, i) => (replies[i * 2]?.[1] === 1 ? alive(i) : dead.push(n)));
    if (dead.length > 0) this.redis.srem(NODES, ...dead).catch(() => {});
  }

  private async heartbeat(): Promise<void> {
    const n = this.node;
    const p = this.redis.pipeline().set(nodeKey(n), '1', 'PX', this.ttlMs).sadd(NODES, n).pexpire(clientsKey(n), this.ttlMs).pexpire(roomsKey(n), this.ttlMs);
    for (const [room] of this.local.rooms()) p.pexpire(roomKey(n, room), this.ttlMs);
    await p.exec().catch(() => {});
  }

  private run(build: (p: ChainableCommander) => ChainableCommander): void {
    build(this.redis.pipeline())
      .exec()
      .catch(() => {});
  }
}
