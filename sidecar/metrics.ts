/**
 * The optional Prometheus endpoint (`metrics_port`): `GET /metrics` answers the text exposition
 * format (version 0.0.4) with the server's counters, its cluster link and the event loop's lag,
 * measured by `perf_hooks.monitorEventLoopDelay` while the endpoint is open. Anything else is 404.
 */
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Stats } from '../protocol/messages.js';
import { describeListenError, type StartFailure } from './listen-errors.js';

/** What one scrape reports; read afresh on every request. */
export interface MetricsSnapshot {
  clients: number;
  rooms: number;
  pendingRequests: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  paused: boolean;
  /** Whether a cluster_url is set. */
  clusterEnabled: boolean;
  /** Whether Redis is reachable now (false without a cluster). */
  clusterConnected: boolean;
  /** This server's node number, 0 without a cluster. */
  clusterNode: number;
}

/** Resolution of the event-loop delay histogram, in milliseconds. */
const LAG_RESOLUTION_MS = 10;

export class MetricsEndpoint {
  private readonly server: Server;
  private readonly lag: IntervalHistogram;

  private constructor(server: Server, lag: IntervalHistogram) {
    this.server = server;
    this.lag = lag;
  }

  /**
   * Listens on `host:port` and serves `snapshot()` at `/metrics`.
   * @returns the endpoint, or why it could not listen (a `start_failed` reason)
   */
  static open(host: string, port: number, snapshot: () => MetricsSnapshot): Promise<MetricsEndpoint | StartFailure> {
    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      const body = formatMetrics(snapshot(), lag);
      lag.reset();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
    });
    return new Promise((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const failure = describeListenError(error, port, host);
        resolve({ code: failure.code, message: `metrics endpoint: ${failure.message}` });
      });
      server.listen(port, host, () => {
        lag.enable();
        resolve(new MetricsEndpoint(server, lag));
      });
    });
  }

  /** The port really bound. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  close(): void {
    this.lag.disable();
    this.server.close();
    this.server.closeAllConnections();
  }
}

/** The exposition text of one scrape. */
export function formatMetrics(s: MetricsSnapshot, lag: Pick<IntervalHistogram, 'mean' | 'max' | 'percentile' | 'count'>): string {
  const seconds = (nanoseconds: number): number => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number | boolean): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${typeof value === 'boolean' ? Number(value) : value}`);
  };
  metric('websocket_clients', 'gauge', 'Connected WebSocket clients of this server.', s.clients);
  metric('websocket_rooms', 'gauge', 'Rooms with at least one member on this server.', s.rooms);
  metric('websocket_pending_auth_requests', 'gauge', 'Connection requests waiting for the host to accept or reject them.', s.pendingRequests);
  metric('websocket_messages_in_total', 'counter', 'Messages received from clients.', s.messagesIn);
  metric('websocket_messages_out_total', 'counter', 'Messages sent to clients.', s.messagesOut);
  metric('websocket_bytes_in_total', 'counter', 'Payload bytes received from clients.', s.bytesIn);
  metric('websocket_bytes_out_total', 'counter', 'Payload bytes sent to clients.', s.bytesOut);
  metric('websocket_paused', 'gauge', '1 while the host is not reading and client sockets are paused.', s.paused);
  metric('websocket_cluster_enabled', 'gauge', '1 when cluster_url is set.', s.clusterEnabled);
  metric('websocket_cluster_connected', 'gauge', '1 while Redis is reachable.', s.clusterConnected);
  metric('websocket_cluster_node', 'gauge', "This server's node number in the cluster (0 without one).", s.clusterNode);
  const samples = lag.count > 0;
  metric('websocket_event_loop_lag_mean_seconds', 'gauge', 'Mean event-loop delay since the last scrape.', samples ? seconds(lag.mean) : 0);
  metric('websocket_event_loop_lag_p99_seconds', 'gauge', '99th percentile event-loop delay since the last scrape.', samples ? seconds(lag.percentile(99)) : 0);
  metric('websocket_event_loop_lag_max_seconds', 'gauge', 'Largest event-loop delay since the last scrape.', samples ? seconds(lag.max) : 0);
  return `${lines.join('\n')}\n`;
}

/** A snapshot from the server's `stats` and the cluster's status. */
export function snapshotOf(stats: Stats, cluster: { enabled: boolean; connected: boolean; node: number }): MetricsSnapshot {
  return {
    clients: stats.clients,
    rooms: stats.rooms,
    pendingRequests: stats.pending_requests,
    messagesIn: stats.messages_in,
    messagesOut: stats.messages_out,
    bytesIn: stats.bytes_in,
    bytesOut: stats.bytes_out,
    paused: stats.paused,
    clusterEnabled: cluster.enabled,
    clusterConnected: cluster.connected,
    clusterNode: cluster.node,
  };
}
