/** The token bucket alone (sidecar/rate-limiter.ts), on fake clients and fake time. */
import type { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from '../../sidecar/client.js';
import { RateLimiter } from '../../sidecar/rate-limiter.js';

/** A client whose socket only records pause and resume. */
function fakeClient(limiter: RateLimiter): Client & { socketPaused(): boolean } {
  let paused = false;
  const ws = { pause: () => (paused = true), resume: () => (paused = false) } as unknown as WebSocket;
  return Object.assign(createClient(1, ws, limiter.burst), { socketPaused: () => paused });
}

let forwarded: string[];
let hostPaused: boolean;
let limiter: RateLimiter;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  forwarded = [];
  hostPaused = false;
  limiter = new RateLimiter((_client, data) => forwarded.push(data.toString()), () => hostPaused);
});
afterEach(() => {
  vi.useRealTimers();
});

/** Offers messages m<from>..m<from+count-1>; forwards those admitted at once, as the client table does. */
function offer(client: Client, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    const data = Buffer.from(`m${i}`);
    if (limiter.admit(client, data, false)) forwarded.push(data.toString());
  }
}

const names = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

describe('RateLimiter', () => {
  it('message_burst 0 means one second of messages', () => {
    limiter.configure(10, 0);
    expect(limiter.burst).toBe(10);
    limiter.configure(10, 3);
    expect(limiter.burst).toBe(3);
    limiter.reset();
    expect([limiter.rate, limiter.burst]).toEqual([0, 0]);
  });

  it('admits a burst, then holds the rest in order with the socket paused, and releases them at the rate', () => {
    limiter.configure(10, 2);
    const client = fakeClient(limiter);
    vi.advanceTimersByTime(1000);
    offer(client, 5);
    expect(forwarded).toEqual(names(0, 2));
    expect(client.socketPaused()).toBe(true);
    expect(client.rateLimited).toBe(true);
    vi.advanceTimersByTime(100);
    expect(forwarded).toEqual(names(0, 3));
    vi.advanceTimersByTime(200);
    expect(forwarded).toEqual(names(0, 5));
    expect(client.socketPaused()).toBe(true); // no token left yet
    vi.advanceTimersByTime(100);
    expect(client.socketPaused()).toBe(false);
    expect(client.rateLimited).toBe(false);
  });

  it('queues a message behind held ones even when a token is back', () => {
    limiter.configure(10, 1);
    const client = fakeClient(limiter);
    vi.advanceTimersByTime(1000);
    offer(client, 2);
    vi.advanceTimersByTime(50);
    offer(client, 1, 2);
    expect(forwarded).toEqual(names(0, 1));
    vi.advanceTimersByTime(250);
    expect(forwarded).toEqual(names(0, 3));
  });

  it('leaves the socket paused while the host is not reading', () => {
    limiter.configure(10, 1);
    const client = fakeClient(limiter);
    vi.advanceTimersByTime(1000);
    offer(client, 2);
    hostPaused = true;
    vi.advanceTimersByTime(500);
    expect(forwarded).toEqual(names(0, 2));
    expect(client.rateLimited).toBe(false);
    expect(client.socketPaused()).toBe(true);
  });

  it('releaseAll hands over every held message at once and stops the release timer', () => {
    limiter.configure(1, 1);
    const client = fakeClient(limiter);
    vi.advanceTimersByTime(1000);
    offer(client, 4);
    expect(client.releaseTimer).toBeDefined();
    limiter.releaseAll(client);
    expect(forwarded).toEqual(names(0, 4));
    expect(client.held).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
