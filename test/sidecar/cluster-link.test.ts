import { describe, expect, it } from 'vitest';
import { ClusterConnectError, ClusterLink, maskUrl } from '../../sidecar/cluster-link.js';
import { freePort } from '../support/redis-server.js';

const handlers = { message: () => {}, lost: () => {}, restored: () => {} };

describe('ClusterLink', () => {
  it('masks the password of a URL, and only that', () => {
    expect(maskUrl('redis://:secret@10.0.0.1:6379/2')).toBe('redis://:***@10.0.0.1:6379/2');
    expect(maskUrl('rediss://game:p%40ss@host')).toBe('rediss://game:***@host');
    expect(maskUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(maskUrl('redis://user@host')).toBe('redis://user@host');
  });

  it('fails fast, naming the URL and what to check, when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const failure = await ClusterLink.connect(`redis://:pw@127.0.0.1:${port}`, handlers).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ClusterConnectError);
    expect((failure as Error).message).toMatch(new RegExp(`^Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} could not be reached: nothing accepts connections there`));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
