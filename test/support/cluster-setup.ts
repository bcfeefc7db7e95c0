/**
 * The setup the cluster end-to-end files share: one real redis-server for the whole file
 * (started before its first test, disposed after its last) and every sidecar a test started
 * stopped after that test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { stopAllSidecars } from './harness.js';
import { RedisServer } from './redis-server.js';

/**
 * Registers those hooks; call it once at the top level of a test file. The server exists only
 * once `beforeAll` has run, so this returns a getter to call inside the tests.
 */
export function useClusterRedis(): () => RedisServer {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.dispose();
  });
  afterEach(stopAllSidecars);
  return () => {
    if (redis === undefined) throw new Error('the redis-server is not started: call the getter inside a test');
    return redis;
  };
}
