/** The server's own answers (sidecar/sidecar-server.ts), in-process: `stats` whatever the process is short of. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { SidecarServer } from '../../sidecar/sidecar-server.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function server(): SidecarServer {
  const events: AnyEvent[] = [];
  return new SidecarServer((event) => events.push(event), () => {}, () => {});
}

describe('SidecarServer stats', () => {
  it('names every field and reads rss', () => {
    const stats = server().stats();
    expect(Object.keys(stats).sort()).toEqual(
      ['accept_errors', 'bytes_in', 'bytes_out', 'clients', 'messages_in', 'messages_out', 'paused', 'pending_requests', 'rooms', 'rss', 'unavailable', 'uptime_ms'].sort(),
    );
    expect([typeof stats.rss, stats.unavailable, stats.accept_errors]).toEqual(['number', [], 0]);
  });

  it('answers with rss nil and named unavailable when reading it fails with EMFILE (issue #12, defect 1)', () => {
    vi.spyOn(process.memoryUsage, 'rss').mockImplementation(() => {
      throw Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
    });
    const stats = server().stats();
    expect([stats.rss, stats.unavailable, stats.clients]).toEqual([null, ['rss'], 0]);
  });
});
