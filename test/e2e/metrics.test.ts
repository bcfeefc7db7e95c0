/** The Prometheus endpoint (`metrics_port`), scraped over HTTP from a real sidecar. */
import { describe, expect, it } from 'vitest';
import { StartFailedError } from '../../host/sidecar-host.js';
import { connect, startSidecar, until } from '../support/harness.js';
import { useClusterRedis } from '../support/cluster-setup.js';
import { freePort } from '../support/redis-server.js';

const redis = useClusterRedis();

/** The samples of one scrape, by metric name. */
async function scrape(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    samples.set(name!, Number(value));
  }
  return samples;
}

describe('metrics endpoint', () => {
  it('reports clients, rooms, traffic, pause, cluster state and event-loop lag', async () => {
    const port = await freePort();
    const started = await startSidecar({ metrics_port: port, cluster_url: redis().url });
    const { client, id } = await connect(started);
    started.host.joinRoom(id, 'room');
    client.ws.send('hello');
    await new Promise<void>((resolve) => started.host.once('text', () => resolve()));
    started.host.sendText(id, 'back');
    await until(() => client.texts.length === 1, 'the answer');
    const samples = await scrape(port);
    expect(samples.get('websocket_clients')).toBe(1);
    expect(samples.get('websocket_rooms')).toBe(1);
    expect(samples.get('websocket_messages_in_total')).toBe(1);
    expect(samples.get('websocket_bytes_in_total')).toBe(5);
    expect(samples.get('websocket_messages_out_total')).toBe(1);
    expect(samples.get('websocket_bytes_out_total')).toBe(4);
    expect(samples.get('websocket_paused')).toBe(0);
    expect(samples.get('websocket_pending_auth_requests')).toBe(0);
    expect(samples.get('websocket_cluster_enabled')).toBe(1);
    expect(samples.get('websocket_cluster_connected')).toBe(1);
    expect(samples.get('websocket_cluster_node')).toBe(Math.floor(id / 2 ** 32));
    expect(samples.get('websocket_event_loop_lag_max_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples.has('websocket_event_loop_lag_p99_seconds')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('serves without a cluster, and stops serving when the server stops', async () => {
    const port = await freePort();
    const started = await startSidecar({ metrics_port: port });
    expect((await scrape(port)).get('websocket_cluster_enabled')).toBe(0);
    await started.host.stop();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('fails the start when the metrics port is taken', async () => {
    const port = await freePort();
    await startSidecar({ metrics_port: port });
    const failure = await startSidecar({ metrics_port: port }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartFailedError);
    expect((failure as StartFailedError).code).toBe('address_in_use');
    expect((failure as StartFailedError).message).toMatch(/^metrics endpoint: /);
  });

  it('releases the metrics port when joining the cluster fails', async () => {
    const port = await freePort();
    const { host } = await startSidecar();
    await host.stop();
    const failure = await host.start({ port: 0, host: '127.0.0.1', metrics_port: port, cluster_url: `redis://127.0.0.1:${await freePort()}` }).catch((error: unknown) => error);
    expect((failure as StartFailedError).code).toBe('cluster_unavailable');
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    const again = await host.start({ port: 0, host: '127.0.0.1', metrics_port: port });
    expect(again.port).toBeGreaterThan(0);
    expect((await scrape(port)).get('websocket_clients')).toBe(0);
  });
});
