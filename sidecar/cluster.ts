/**
 * The cluster (PROTOCOL.md, "Cluster"): with `cluster_url` set, several sidecars share their
 * clients through Redis pub/sub. This class stands between the command dispatcher and the
 * server: a command for clients of this server goes straight to it, as without a cluster; a
 * broadcast is also published once for the other servers, and a send or disconnect for a client
 * of another server (its id says which, cluster-ids.ts) is published to that server's channel.
 * What other servers publish is fanned out here through the server's own methods. It also opens
 * the optional metrics endpoint (metrics.ts), the other thing that must be ready before listening.
 * Its parts: cluster-link.ts (Redis), cluster-wire.ts (messages), cluster-presence.ts (who is where).
 */
import { ErrorCode, Event, PROTOCOL_VERSION } from '../protocol/constants.js';
import type { AnyEvent, ClusterStats } from '../protocol/messages.js';
import { isClosing } from './client.js';
import { isValidCloseCode } from './close-codes.js';
import { idBase, nodeFromSequence, nodeOf } from './cluster-ids.js';
import { ClusterConnectError, ClusterLink } from './cluster-link.js';
import { ClusterPresence, NODE_SEQ } from './cluster-presence.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './cluster-wire.js';
import type { Logger } from './log.js';
import { MetricsEndpoint, snapshotOf } from './metrics.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { toPayload } from './outbound.js';
import type { SidecarServer } from './sidecar-server.js';

const CLUSTER_CHANNEL = 'gws:all';
const nodeChannel = (node: number): string => `gws:to:${node}`;
const roomChannel = (room: string): string => `gws:room:${room}`;
/** How long a process exit waits for the goodbye to Redis. */
const LEAVE_DEADLINE_MS = 200;

export class Cluster {
  private readonly server: SidecarServer;
  private readonly emit: (event: AnyEvent) => void;
  private readonly log: Logger;
  private link: ClusterLink | undefined;
  private presence: ClusterPresence | undefined;
  private metrics: MetricsEndpoint | undefined;
  /** This server's node number while in a cluster, else 0. */
  private node = 0;
  /** Listening in a cluster: remote targets are published, remote messages fanned out. */
  private active = false;

  constructor(server: SidecarServer, emit: (event: AnyEvent) => void, log: Logger) {
    this.server = server;
    this.emit = emit;
    this.log = log;
    server.rooms.onChange = (room, clientId, joined) => this.roomChanged(room, clientId, joined);
  }

  /**
   * Handles `start`. Without `cluster_url` and `metrics_port` (or with options the server will
   * refuse anyway) the server starts at once and this returns undefined. Otherwise Redis and the
   * metrics port are made ready first, and the returned promise settles once the server was told
   * to start or `start_failed` was reported: commands that follow must wait for it.
   */
  start(protocolVersion: number, rawOptions: Record<string, unknown>): Promise<void> | undefined {
    let options: ServerOptions | undefined;
    try {
      options = resolveOptions(rawOptions);
    } catch {
      options = undefined; // the server reports it
    }
    const extras = options !== undefined && (options.clusterUrl !== '' || options.metricsPort !== 0);
    if (!extras || protocolVersion !== PROTOCOL_VERSION || this.link !== undefined || this.metrics !== undefined) {
      this.server.start(protocolVersion, rawOptions);
      return undefined;
    }
    return this.startWithExtras(protocolVersion, rawOptions, options!);
  }

  /** Handles `send_text`/`send_binary`. */
  send(clientId: number, data: Uint8Array, binary: boolean): void {
    const node = nodeOf(clientId);
    if (!this.active || node === this.node || node === 0) {
      this.server.send(clientId, data, binary);
      return;
    }
    this.publishTo(node, clientId, { kind: 'send', origin: this.node, clientId, binary }, data);
  }

  /** Handles `broadcast_*`: every client of every server but `exclude`. */
  broadcast(payload: string | Uint8Array, exclude: number): void {
    this.server.broadcast(payload, exclude);
    if (!this.active) return;
    const [data, binary] = toPayload(payload);
    void this.link!.publish(CLUSTER_CHANNEL, encodeEnvelope({ kind: 'broadcast', origin: this.node, exclude, binary }, data));
  }

  /** Handles `room_*`: the room's members on every server but `exclude`. */
  broadcastToRoom(room: string, payload: string | Uint8Array, exclude: number): void {
    this.server.broadcastToRoom(room, payload, exclude);
    if (!this.active) return;
    const [data, binary] = toPayload(payload);
    void this.link!.publish(roomChannel(room), encodeEnvelope({ kind: 'room', origin: this.node, room, exclude, binary }, data));
  }

  /** Handles `disconnect`; a remote client's close code and reason are checked here, where the host hears about them. */
  disconnect(clientId: number, code: number, reason: string): void {
    const node = nodeOf(clientId);
    if (!this.active || node === this.node || node === 0) {
      this.server.disconnect(clientId, code, reason);
      return;
    }
    const problem = !isValidCloseCode(code)
      ? `close code ${code} cannot be sent: use 1000 or a code from 3000 to 4999`
      : Buffer.byteLength(reason) > 123
        ? `close reason is ${Buffer.byteLength(reason)} bytes; the limit is 123 bytes of UTF-8`
        : undefined;
    if (problem !== undefined) this.emit([Event.ERROR, ErrorCode.INVALID_ARGUMENT, problem, clientId]);
    else this.publishTo(node, clientId, { kind: 'disconnect', origin: this.node, clientId, code, reason });
  }

  /** Handles `request_room_members`: always answered, from this server alone when Redis is away. */
  requestRoomMembers(token: number, room: string): void {
    const local = [...this.server.rooms.clientsIn(room)];
    const answer = (ids: number[]): void => this.emit([Event.ROOM_MEMBERS, token, room, ids.sort((a, b) => a - b)]);
    if (!this.active || !this.link!.connected) {
      answer(local);
      return;
    }
    // Redis may not have this server's latest joins yet; the local registry is the truth for its own clients.
    this.presence!.roomMembers(room).then(
      (ids) => answer([...ids.filter((id) => nodeOf(id) !== this.node), ...local]),
      () => answer(local),
    );
  }

  /** Handles `request_cluster_stats`: always answered, for this server alone when Redis is away. */
  requestClusterStats(token: number): void {
    const alone = aloneStats(this.link !== undefined, this.node, this.server.table.clients.size);
    if (!this.active || !this.link!.connected) {
      this.emit([Event.CLUSTER_STATS, token, alone]);
      return;
    }
    this.presence!.clientsPerServer().then(
      (counts) => {
        counts.set(this.node, alone.clients);
        const perServer = Object.fromEntries([...counts].map(([node, count]) => [String(node), count]));
        const clients = [...counts.values()].reduce((sum, count) => sum + count, 0);
        this.emit([Event.CLUSTER_STATS, token, { ...alone, connected: true, servers: counts.size, clients, clients_per_server: perServer }]);
      },
      () => this.emit([Event.CLUSTER_STATS, token, alone]),
    );
  }

  /** Sees every event the server emits, to follow its life and its clients. */
  observe(event: AnyEvent): void {
    switch (event[0]) {
      case Event.CLIENT_CONNECTED:
        this.presence?.clientAdded(event[1]);
        break;
      case Event.CLIENT_DISCONNECTED:
        this.presence?.clientRemoved(event[1]);
        break;
      case Event.LISTENING:
        if (this.link !== undefined) {
          // Only now: a start refused as already_listening must not change the running server's ids.
          this.server.table.idBase = idBase(this.node);
          this.active = true;
          this.presence!.start().catch(() => {}); // Redis lost meanwhile: 'restored' rewrites it
        }
        break;
      case Event.START_FAILED:
        // An `already_listening` answer must not end the cluster of the server that listens.
        if (!this.active) void this.leave();
        break;
      case Event.STOPPED:
        void this.leave();
        break;
      default:
        break;
    }
  }

  /** For process exit: says goodbye to Redis, waiting at most a moment. */
  async shutdown(): Promise<void> {
    await Promise.race([this.leave(), new Promise((resolve) => setTimeout(resolve, LEAVE_DEADLINE_MS).unref())]);
  }

  /** Metrics for the endpoint. */
  clusterStatus(): { enabled: boolean; connected: boolean; node: number } {
    return { enabled: this.link !== undefined, connected: this.link?.connected ?? false, node: this.node };
  }

  // ---- inside --------------------------------------------------------------------------------

  private async startWithExtras(protocolVersion: number, rawOptions: Record<string, unknown>, options: ServerOptions): Promise<void> {
    if (options.metricsPort !== 0) {
      const metrics = await MetricsEndpoint.open(options.metricsHost, options.metricsPort, () => snapshotOf(this.server.stats(), this.clusterStatus()));
      if (!(metrics instanceof MetricsEndpoint)) {
        this.emit([Event.START_FAILED, metrics.code, metrics.message]);
        return;
      }
      this.metrics = metrics;
      this.log('info', `metrics at http://${options.metricsHost}:${metrics.port}/metrics`);
    }
    if (options.clusterUrl !== '') {
      try {
        await this.join(options);
      } catch (error) {
        const message = error instanceof ClusterConnectError ? error.message : `the cluster could not be joined: ${(error as Error).message}`;
        await this.leave(); // closes the metrics endpoint opened above
        this.emit([Event.START_FAILED, ErrorCode.CLUSTER_UNAVAILABLE, message]);
        return;
      }
    }
    this.server.start(protocolVersion, rawOptions);
  }

  private async join(options: ServerOptions): Promise<void> {
    const link = await ClusterLink.connect(options.clusterUrl, {
      message: (_channel, message) => this.received(message),
      lost: (cause) => {
        this.log('warn', `cluster: ${cause}; delivering locally only until Redis is back`);
        this.emit([Event.ERROR, ErrorCode.CLUSTER_UNAVAILABLE, `${cause}: messages to other servers are dropped until it is back`, 0]);
      },
      restored: () => {
        this.log('info', 'cluster: Redis is back');
        this.presence?.rewrite().catch(() => {});
        this.emit([Event.ERROR, ErrorCode.CLUSTER_RESTORED, 'the connection to Redis is back: messages reach the other servers again', 0]);
      },
    });
    this.link = link;
    try {
      this.node = nodeFromSequence(await link.pub.incr(NODE_SEQ));
    } catch (error) {
      this.link = undefined;
      await link.close();
      throw error;
    }
    this.presence = new ClusterPresence(link.pub, this.node, options.clusterPresenceTtlMs, {
      clientIds: () => this.server.table.clients.keys(),
      rooms: () => this.server.rooms.entries(),
    });
    link.subscribe(CLUSTER_CHANNEL);
    link.subscribe(nodeChannel(this.node));
    this.log('info', `cluster: joined as node ${this.node}`);
  }

  /** Leaves the cluster and closes the metrics endpoint (stopped, failed to start, or exiting). */
  private async leave(): Promise<void> {
    const { link, presence, metrics } = this;
    this.active = false;
    this.link = this.presence = this.metrics = undefined;
    this.node = 0;
    this.server.table.idBase = 0;
    metrics?.close();
    presence?.stop();
    if (link === undefined) return;
    await presence?.leave().catch(() => {});
    await link.close();
  }

  private roomChanged(room: string, clientId: number, joined: boolean): void {
    if (this.link === undefined) return;
    const members = this.server.rooms.clientsIn(room).size;
    if (joined) {
      if (members === 1) this.link.subscribe(roomChannel(room));
      this.presence!.joined(room, clientId);
    } else {
      if (members === 0) this.link.unsubscribe(roomChannel(room));
      this.presence!.left(room, clientId, members === 0);
    }
  }

  /** A send or disconnect for a client of server `node`; reaching no server means it is gone. */
  private publishTo(node: number, clientId: number, envelope: Envelope, data?: Uint8Array): void {
    void this.link!.publish(nodeChannel(node), encodeEnvelope(envelope, data)).then((receivers) => {
      if (receivers === 0) {
        this.emit([Event.ERROR, ErrorCode.UNKNOWN_CLIENT, `no client with id ${clientId}: its server (node ${node}) is not in the cluster`, clientId]);
      }
    });
  }

  /** A message another server published: fanned out to this server's clients. */
  private received(message: Buffer): void {
    const decoded = decodeEnvelope(message);
    if (!this.active || decoded === undefined || decoded.envelope.origin === this.node) return;
    const { envelope: e, payload } = decoded;
    switch (e.kind) {
      case 'room':
        if (this.server.rooms.clientsIn(e.room).size > 0) this.server.broadcastToRoom(e.room, e.binary ? payload : payload.toString(), e.exclude);
        break;
      case 'broadcast':
        this.server.broadcast(e.binary ? payload : payload.toString(), e.exclude);
        break;
      case 'send':
      case 'disconnect': {
        const client = this.server.table.clients.get(e.clientId);
        // Gone or closing: dropped, as a message to a vanished client is (at most once).
        if (client === undefined || isClosing(client)) return;
        if (e.kind === 'send') this.server.send(e.clientId, payload, e.binary);
        else this.server.disconnect(e.clientId, e.code, e.reason);
        break;
      }
    }
  }
}

/** `cluster_stats` for this server alone (no cluster, or Redis away). */
function aloneStats(enabled: boolean, node: number, clients: number): ClusterStats {
  return { enabled, connected: false, node, servers: 1, clients, clients_per_server: { [String(node)]: clients } };
}
