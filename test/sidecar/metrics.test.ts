import { describe, expect, it } from 'vitest';
import { formatMetrics, snapshotOf } from '../../sidecar/metrics.js';

const stats = {
  clients: 3,
  rooms: 2,
  pending_requests: 1,
  messages_in: 10,
  messages_out: 20,
  bytes_in: 100,
  bytes_out: 200,
  rss: 1,
  uptime_ms: 1,
  paused: true,
  accept_errors: 0,
  unavailable: [],
};

describe('metrics text', () => {
  it('writes every sample with HELP and TYPE, booleans as 0/1 and lag in seconds', () => {
    const lag = { count: 5, mean: 2e6, max: 4e7, percentile: () => 3e7 };
    const text = formatMetrics(snapshotOf(stats, { enabled: true, connected: false, node: 4 }), lag);
    expect(text.endsWith('\n')).toBe(true);
    const samples = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.split(' ')),
    );
    expect(samples).toEqual({
      websocket_clients: '3',
      websocket_rooms: '2',
      websocket_pending_auth_requests: '1',
      websocket_messages_in_total: '10',
      websocket_messages_out_total: '20',
      websocket_bytes_in_total: '100',
      websocket_bytes_out_total: '200',
      websocket_paused: '1',
      websocket_cluster_enabled: '1',
      websocket_cluster_connected: '0',
      websocket_cluster_node: '4',
      websocket_event_loop_lag_mean_seconds: '0.002',
      websocket_event_loop_lag_p99_seconds: '0.03',
      websocket_event_loop_lag_max_seconds: '0.04',
    });
    expect(text).toContain('# TYPE websocket_messages_in_total counter');
    expect(text).toContain('# TYPE websocket_clients gauge');
  });

  it('reports no lag before the first sample', () => {
    const text = formatMetrics(snapshotOf(stats, { enabled: false, connected: false, node: 0 }), { count: 0, mean: NaN, max: 0, percentile: () => NaN });
    expect(text).toContain('websocket_event_loop_lag_mean_seconds 0\n');
  });
});
