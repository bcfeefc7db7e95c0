/**
 * The rate limit and the global pause (the host not reading stdout) each pause client sockets;
 * neither may resume a socket the other still holds. The server runs in-process, so a test can
 * pause it as the event writer does and look at the server side of a real socket.
 */
import type WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { SidecarServer } from '../../sidecar/sidecar-server.js';
import { until } from '../support/harness.js';
import { frame, RawClient } from '../support/raw-client.js';

interface Running {
  server: SidecarServer;
  port: number;
  texts: string[];
  events: AnyEvent[];
  /** The server side of client `id`: is its socket paused? */
  isPaused(id: number): boolean;
}

const servers: SidecarServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.shutdown(100)));
});

async function listen(options: Record<string, unknown>): Promise<Running> {
  const events: AnyEvent[] = [];
  const texts: string[] = [];
  let port = 0;
  const server = new SidecarServer(
    (event) => {
      events.push(event);
      if (event[0] === 65) port = event[1];
    },
    () => {},
    (op, _clientId, data) => {
      if (op === 70) texts.push(Buffer.from(data).toString('utf8'));
    },
  );
  servers.push(server);
  server.start(1, { port: 0, host: '127.0.0.1', heartbeat_interval_ms: 0, ...options });
  await until(() => port !== 0, 'listening');
  const clients = (server as unknown as { clients: Map<number, { ws: WebSocket }> }).clients;
  return { server, port, texts, events, isPaused: (id) => clients.get(id)!.ws.isPaused };
}

/** A raw client that sent `count` text messages in one write; resolves once the server held some. */
async function sendBurst(running: Running, count: number, from = 0): Promise<RawClient> {
  const raw = await RawClient.open(running.port);
  raw.send(...Array.from({ length: count }, (_, i) => frame(1, `m${from + i}`)));
  return raw;
}

const texts = (count: number): string[] => Array.from({ length: count }, (_, i) => `m${i}`);

describe('rate limit and global pause', () => {
  it('a global resume leaves a rate-limited socket paused', async () => {
    const running = await listen({ max_messages_per_second: 10, message_burst: 2 });
    const raw = await sendBurst(running, 12);
    await until(() => running.texts.length === 2, 'the burst');
    expect(running.isPaused(1)).toBe(true);
    running.server.setPaused(true);
    running.server.setPaused(false);
    expect(running.isPaused(1)).toBe(true);
    // The held ten still go out at the rate, and reading resumes after them.
    await until(() => running.texts.length === 12, 'the held messages', 5000);
    expect(running.texts).toEqual(texts(12));
    await until(() => !running.isPaused(1), 'the rate limit to resume the socket', 2000);
    raw.destroy();
  });

  it('the rate limit does not resume a socket while the host is not reading', async () => {
    const running = await listen({ max_messages_per_second: 20, message_burst: 2 });
    const raw = await sendBurst(running, 6);
    await until(() => running.texts.length === 2, 'the burst');
    running.server.setPaused(true);
    // Held messages were already read: they still go to the host (stdout takes them).
    await until(() => running.texts.length === 6, 'the held messages', 5000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // tokens are back
    expect(running.isPaused(1)).toBe(true);
    raw.send(frame(1, 'after'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(running.texts).toEqual(texts(6));
    running.server.setPaused(false);
    expect(running.isPaused(1)).toBe(false);
    await until(() => running.texts.at(-1) === 'after', 'the message sent during the pause');
    raw.destroy();
  });

  it('leaves no timer behind when stopped with messages held', async () => {
    // Every release timer the server sets, to check each one fired or was cleared (Node's Timeout marks both `_destroyed`).
    const releaseTimers: Array<NodeJS.Timeout & { _destroyed?: boolean }> = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const timer = realSetTimeout(callback, ms, ...args);
      if (callback.name === 'releaseHeld') releaseTimers.push(timer);
      return timer;
    }) as typeof setTimeout);
    try {
      // At 1 a second, a release timer would outlive the stop by up to a second.
      const running = await listen({ max_messages_per_second: 1, message_burst: 1 });
      const raw = await sendBurst(running, 5);
      await until(() => running.texts.length === 1, 'the burst');
      await running.server.stop();
      expect(running.texts).toEqual(texts(5));
      expect(running.events.at(-1)).toEqual([67]);
      expect(releaseTimers.length).toBeGreaterThan(0);
      expect(releaseTimers.filter((timer) => timer._destroyed !== true)).toEqual([]);
      raw.destroy();
    } finally {
      spy.mockRestore();
    }
  });
});
