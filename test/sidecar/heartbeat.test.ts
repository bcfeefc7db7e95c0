/** Heartbeats alone (sidecar/heartbeat.ts), on fake clients and fake time. */
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { createClient, type Client } from '../../sidecar/client.js';
import { Heartbeat, pongReceived } from '../../sidecar/heartbeat.js';

interface FakeSocket {
  readyState: number;
  pings: number;
  terminated: boolean;
}

function fakeClient(id: number): Client & { socket: FakeSocket } {
  const socket: FakeSocket = { readyState: WebSocket.OPEN, pings: 0, terminated: false };
  const ws = {
    get readyState() {
      return socket.readyState;
    },
    ping: () => socket.pings++,
    terminate: () => {
      socket.terminated = true;
      socket.readyState = WebSocket.CLOSED;
    },
  } as unknown as WebSocket;
  return Object.assign(createClient(id, ws, 0), { socket });
}

let clients: Map<number, Client>;
let events: AnyEvent[];
let heartbeat: Heartbeat;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  clients = new Map();
  events = [];
  heartbeat = new Heartbeat(clients, (event) => events.push(event));
});
afterEach(() => {
  heartbeat.stop();
  vi.useRealTimers();
});

function add(id: number): Client & { socket: FakeSocket } {
  const client = fakeClient(id);
  clients.set(id, client);
  return client;
}

describe('Heartbeat', () => {
  it('pings every open client once per interval while it answers', () => {
    const client = add(1);
    heartbeat.start(100, 50);
    vi.advanceTimersByTime(100);
    for (let beat = 1; beat <= 5; beat++) {
      expect(client.socket.pings).toBe(beat);
      vi.advanceTimersByTime(40);
      pongReceived(client);
      vi.advanceTimersByTime(60);
    }
    expect(client.socket.terminated).toBe(false);
    expect(events).toEqual([]);
  });

  it('drops a client that does not answer within the timeout, as 1006, and says so', () => {
    const client = add(7);
    heartbeat.start(100, 50);
    vi.advanceTimersByTime(149);
    expect(client.socket.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(client.socket.terminated).toBe(true);
    expect([client.closeCode, client.closeReason]).toEqual([1006, 'heartbeat timeout']);
    expect(events).toEqual([[73, 'heartbeat_timeout', 'client 7 did not answer a ping sent 50 ms ago and was dropped', 7]]);
  });

  it('suspended while the host stalls (issue #12, defect 4): no drop, then a full timeout from the resume', () => {
    const client = add(3);
    heartbeat.start(100, 50);
    vi.advanceTimersByTime(120);
    expect(client.socket.pings).toBe(1);
    heartbeat.suspend(true);
    vi.advanceTimersByTime(5000);
    expect([client.socket.terminated, client.socket.pings, events]).toEqual([false, 1, []]);
    heartbeat.suspend(false);
    vi.advanceTimersByTime(49);
    expect(client.socket.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(client.socket.terminated).toBe(true);
    expect(events).toEqual([[73, 'heartbeat_timeout', 'client 3 did not answer a ping within 50 ms after reading resumed and was dropped', 3]]);
  });

  it('sends no second ping while one is in flight, and judges each ping by its own timer', () => {
    const client = add(1);
    heartbeat.start(100, 250);
    vi.advanceTimersByTime(300);
    expect(client.socket.pings).toBe(1);
    pongReceived(client);
    vi.advanceTimersByTime(100); // t=400: a second ping, 250 ms to answer it
    expect(client.socket.pings).toBe(2);
    vi.advanceTimersByTime(200);
    expect(client.socket.terminated).toBe(false);
    vi.advanceTimersByTime(50);
    expect(client.socket.terminated).toBe(true);
  });

  it('leaves alone a client that left or is no longer open', () => {
    const gone = add(1);
    const closing = add(2);
    heartbeat.start(100, 50);
    vi.advanceTimersByTime(100);
    clients.delete(1);
    closing.socket.readyState = WebSocket.CLOSING;
    vi.advanceTimersByTime(100);
    expect([gone.socket.terminated, closing.socket.terminated]).toEqual([false, false]);
    expect(events).toEqual([]);
  });

  it('an interval of 0 means no heartbeats, and stop ends them', () => {
    const client = add(1);
    heartbeat.start(0, 50);
    vi.advanceTimersByTime(1000);
    expect(client.socket.pings).toBe(0);
    heartbeat.start(100, 50);
    heartbeat.stop();
    vi.advanceTimersByTime(1000);
    expect(client.socket.pings).toBe(0);
  });
});
