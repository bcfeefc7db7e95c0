/** Accept failures (sidecar/http-listener.ts): counted, and reported at most once a second. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { AcceptFailures } from '../../sidecar/http-listener.js';

let events: AnyEvent[];
let lines: string[];
let failures: AcceptFailures;
const emfile = (): NodeJS.ErrnoException => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  vi.advanceTimersByTime(5000);
  events = [];
  lines = [];
  failures = new AcceptFailures((event) => events.push(event), (level, message) => lines.push(`${level}: ${message}`));
});
afterEach(() => {
  failures.reset();
  vi.useRealTimers();
});

describe('AcceptFailures (issue #12, defect 8)', () => {
  it('reports the first failure at once, then at most once a second with the count since the last report', () => {
    failures.add(emfile());
    expect(events.map((event) => event.slice(0, 2))).toEqual([[73, 'accept_failed']]);
    for (let i = 0; i < 99; i++) failures.add(emfile());
    vi.advanceTimersByTime(999);
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(events).toHaveLength(2);
    expect(events[1]![2]).toMatch(/^99 connection\(s\) could not be accepted: the process is out of file descriptors \(EMFILE\)/);
    expect(lines.map((line) => line.slice(0, 6))).toEqual(['warn: ', 'warn: ']);
    expect(failures.total).toBe(100);
  });

  it('starts from zero for a new server and drops a pending report', () => {
    failures.add(emfile());
    failures.add(emfile());
    failures.reset();
    vi.advanceTimersByTime(2000);
    expect([failures.total, events.length]).toEqual([0, 1]);
  });
});
