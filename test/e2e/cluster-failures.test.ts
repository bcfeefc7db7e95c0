/**
 * The cluster when things go wrong: a server killed with SIGKILL leaves presence within its TTL,
 * Redis stopped and restarted under traffic (events, local delivery, resumption), and clear
 * start failures for a refused password and for TLS to a Redis that does not speak it.
 */
import { describe, expect, it } from 'vitest';
import { requestClusterStats, requestRoomMembers } from '../../host/cluster-requests.js';
import { StartFailedError } from '../../host/sidecar-host.js';
import { connect, startSidecar, until } from '../support/harness.js';
import { untilAsync } from '../support/eventually.js';
import { useClusterRedis } from '../support/cluster-setup.js';
import { RedisServer } from '../support/redis-server.js';

const redis = useClusterRedis();

async function startFailure(options: Parameters<typeof startSidecar>[0]): Promise<StartFailedError> {
  const failure = await startSidecar(options).then(
    () => new Error('the start succeeded'),
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(StartFailedError);
  return failure as StartFailedError;
}

describe('cluster failures', () => {
  it('drops a server killed with SIGKILL from presence within cluster_presence_ttl_ms', async () => {
    const ttl = 600;
    const a = await startSidecar({ cluster_url: redis().url, cluster_presence_ttl_ms: ttl });
    const b = await startSidecar({ cluster_url: redis().url, cluster_presence_ttl_ms: ttl });
    const [ma, mb] = [await connect(a), await connect(b)];
    a.host.joinRoom(ma.id, 'arena');
    b.host.joinRoom(mb.id, 'arena');
    await untilAsync(async () => (await requestRoomMembers(a.host, 'arena')).length === 2, 'presence of both members');
    const killedAt = Date.now();
    b.host.child.kill('SIGKILL');
    await untilAsync(async () => (await requestRoomMembers(a.host, 'arena')).length === 1, 'the killed server to leave presence', 5000);
    const gone = Date.now() - killedAt;
    expect(gone).toBeLessThan(ttl + 500);
    expect(await requestRoomMembers(a.host, 'arena')).toEqual([ma.id]);
    expect(await requestClusterStats(a.host)).toMatchObject({ servers: 1, clients: 1 });
  });

  it('removes a stopped server from presence at once, with the default TTL of 15 s', async () => {
    const a = await startSidecar({ cluster_url: redis().url });
    const b = await startSidecar({ cluster_url: redis().url });
    await connect(b);
    await untilAsync(async () => (await requestClusterStats(a.host)).servers === 2, 'both servers present');
    const stoppedAt = Date.now();
    await b.host.stop();
    await untilAsync(async () => (await requestClusterStats(a.host)).servers === 1, 'the stopped server to leave', 2000);
    expect(Date.now() - stoppedAt).toBeLessThan(2000);
    expect(await requestClusterStats(a.host)).toMatchObject({ servers: 1, clients: 0 });
  });

  it('goes on locally while Redis is down, reports it, and resumes when Redis is back', async () => {
    const a = await startSidecar({ cluster_url: redis().url });
    const b = await startSidecar({ cluster_url: redis().url });
    const [ma, mb] = [await connect(a), await connect(b)];
    a.host.joinRoom(ma.id, 'ops');
    b.host.joinRoom(mb.id, 'ops');
    await untilAsync(async () => (await requestRoomMembers(a.host, 'ops')).length === 2, 'presence of both members');
    const reported: string[] = [];
    a.host.on('errorReported', (code) => reported.push(code));
    // Traffic while Redis dies and comes back: nothing crashes, nothing blocks.
    let sent = 0;
    const traffic = setInterval(() => a.host.roomText('ops', `tick ${sent++}`), 5);
    try {
      await until(() => mb.client.texts.length > 5, 'cross-server traffic before the outage');
      await redis().stop();
      await until(() => reported.includes('cluster_unavailable'), 'cluster_unavailable');
      const before = ma.client.texts.length;
      await until(() => ma.client.texts.length > before + 5, 'local delivery during the outage');
      const remoteBefore = mb.client.texts.length;
      expect(await requestClusterStats(a.host)).toMatchObject({ connected: false, servers: 1 });
      expect(await requestRoomMembers(a.host, 'ops')).toEqual([ma.id]);
      await redis().restart();
      await until(() => reported.includes('cluster_restored'), 'cluster_restored', 10_000);
      await until(() => mb.client.texts.length > remoteBefore + 5, 'cross-server delivery to resume', 10_000);
    } finally {
      clearInterval(traffic);
    }
    expect(reported.filter((code) => code.startsWith('cluster_'))).toEqual(['cluster_unavailable', 'cluster_restored']);
    // The restarted Redis was empty: each server wrote its presence back.
    await untilAsync(async () => (await requestRoomMembers(b.host, 'ops')).length === 2, 'presence restored');
    expect(a.host.child.exitCode).toBeNull();
    expect(b.host.child.exitCode).toBeNull();
  });

  it('names a refused password, and starts with the right one', async () => {
    const locked = await RedisServer.start(['--requirepass', 'sesame']);
    try {
      const failure = await startFailure({ cluster_url: `redis://:wrong@127.0.0.1:${locked.port}` });
      expect(failure.code).toBe('cluster_unavailable');
      expect(failure.message).toMatch(/authentication failed/);
      expect(failure.message).not.toContain('wrong@');
      expect((await startFailure({ cluster_url: locked.url })).message).toMatch(/authentication failed|NOAUTH/);
      const ok = await startSidecar({ cluster_url: `redis://:sesame@127.0.0.1:${locked.port}` });
      expect(ok.listening.port).toBeGreaterThan(0);
    } finally {
      await locked.dispose();
    }
  });

  it('explains rediss:// to a Redis without TLS', async () => {
    const failure = await startFailure({ cluster_url: `rediss://127.0.0.1:${redis().port}` });
    expect(failure.code).toBe('cluster_unavailable');
    expect(failure.message).toMatch(/TLS/);
  });

  it('refuses a cluster_url that is not a Redis URL', async () => {
    const failure = await startFailure({ cluster_url: 'http://user:pw@example' });
    expect(failure.code).toBe('invalid_option');
    expect(failure.message).not.toContain('pw');
  });
});
