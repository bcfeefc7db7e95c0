/**
 * The upgrade gate alone (sidecar/upgrade-gate.ts), behind a bare HTTP server: what it refuses
 * and why, the auth round trip (accept, reject, expiry) and the handshake deadline.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { resolveOptions } from '../../sidecar/options.js';
import { UpgradeGate } from '../../sidecar/upgrade-gate.js';
import { until } from '../support/harness.js';
import { rawHttp } from '../support/raw-client.js';

interface Gated {
  gate: UpgradeGate;
  port: number;
  events: AnyEvent[];
  logs: string[];
  connected: WebSocket[];
  /** What the gate's hooks answer. */
  state: { listening: boolean; clients: number };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function gated(rawOptions: Record<string, unknown> = {}): Promise<Gated> {
  const options = resolveOptions({ port: 0, host: '127.0.0.1', ...rawOptions });
  const events: AnyEvent[] = [];
  const logs: string[] = [];
  const connected: WebSocket[] = [];
  const state = { listening: true, clients: 0 };
  const gate = new UpgradeGate((event) => events.push(event), (_level, message) => logs.push(message), {
    isListening: () => state.listening,
    clientCount: () => state.clients,
    connected: (ws) => connected.push(ws),
  });
  gate.open(options);
  const server = http.createServer();
  server.on('connection', (socket) => gate.trackHandshake(socket, options.handshakeTimeoutMs));
  server.on('upgrade', (req, socket, head) => gate.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    gate.dropWaiting();
    gate.close();
    server.closeAllConnections();
    server.close();
  });
  return { gate, port: (server.address() as AddressInfo).port, events, logs, connected, state };
}

/** Opens a client; resolves with it once open, or with the HTTP status of the refusal. */
function attempt(port: number, path = '/', options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, options.protocols ?? [], options);
    cleanups.push(() => ws.terminate());
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => resolve({}));
  });
}

const errorsOf = (events: AnyEvent[]): unknown[] => events.filter((e) => e[0] === 73).map((e) => e[1]);

describe('UpgradeGate', () => {
  it('lets an upgrade through when nothing stands in its way', async () => {
    const g = await gated();
    const { ws } = await attempt(g.port);
    expect(ws?.readyState).toBe(WebSocket.OPEN);
    await until(() => g.connected.length === 1, 'the connection handed on');
    expect(g.events).toEqual([]);
  });

  it('refuses the wrong path with 404, a foreign origin with 403 and a full server with 503, each with an error', async () => {
    const g = await gated({ path: '/game', allowed_origins: ['https://game.example'], max_clients: 2 });
    expect((await attempt(g.port, '/other')).status).toBe(404);
    expect((await attempt(g.port, '/game', { origin: 'https://evil.example' })).status).toBe(403);
    g.state.clients = 2;
    expect((await attempt(g.port, '/game', { origin: 'https://game.example' })).status).toBe(503);
    expect(errorsOf(g.events)).toEqual(['rejected_connection', 'rejected_connection', 'rejected_connection']);
    expect(g.connected).toEqual([]);
  });

  it('refuses with 503 while the server is not listening, without an error', async () => {
    const g = await gated();
    g.state.listening = false;
    expect((await attempt(g.port)).status).toBe(503);
    expect(g.events).toEqual([]);
  });

  it('auth: asks the host, then completes the upgrade with the subprotocol it chose', async () => {
    const g = await gated({ auth: true, subprotocols: ['a', 'b'] });
    const opened = attempt(g.port, '/lobby?room=1', { protocols: ['a', 'b'] });
    await until(() => g.events.length === 1, 'the connection request');
    const [op, id, info] = g.events[0] as [number, number, Record<string, unknown>];
    expect(op).toBe(68);
    expect(info).toMatchObject({ address: '127.0.0.1', path: '/lobby', query: 'room=1' });
    expect(info).not.toHaveProperty('subprotocol');
    expect(g.gate.pendingCount).toBe(1);
    g.gate.accept(id, 'b');
    const { ws } = await opened;
    expect(ws?.protocol).toBe('b');
    expect(g.gate.pendingCount).toBe(0);
  });

  it('auth: rejects with the host\'s status; a status outside 400-599 or a reason with control characters is invalid_argument and the request stays pending', async () => {
    const g = await gated({ auth: true });
    const first = attempt(g.port);
    await until(() => g.events.length === 1, 'the first request');
    g.gate.reject(g.events[0]![1] as number, 401, 'bad token');
    expect((await first).status).toBe(401);
    const second = attempt(g.port);
    await until(() => g.events.length === 2, 'the second request');
    const id = g.events[1]![1] as number;
    g.gate.reject(id, 200, '');
    g.gate.reject(id, 499, 'nope\r\nX-Injected: yes');
    g.gate.reject(id, 499, 'x'.repeat(124));
    expect(errorsOf(g.events)).toEqual(['invalid_argument', 'invalid_argument', 'invalid_argument']);
    expect(g.gate.pendingCount).toBe(1);
    g.gate.reject(id, 499, 'nope');
    expect((await second).status).toBe(499);
  });

  it('auth: accept with a subprotocol the client did not offer is invalid_argument and the request stays pending', async () => {
    const g = await gated({ auth: true, subprotocols: ['a', 'b'] });
    const opened = attempt(g.port, '/', { protocols: ['a'] });
    await until(() => g.events.length === 1, 'the request');
    const id = g.events[0]![1] as number;
    g.gate.accept(id, 'b');
    expect(errorsOf(g.events)).toEqual(['invalid_argument']);
    expect(g.gate.pendingCount).toBe(1);
    g.gate.accept(id, 'a');
    expect((await opened).ws?.protocol).toBe('a');
  });

  it('auth: past max_pending_requests an upgrade gets 503 with rejected_connection', async () => {
    const g = await gated({ auth: true, max_pending_requests: 1 });
    void attempt(g.port);
    await until(() => g.events.length === 1, 'the request');
    expect((await attempt(g.port)).status).toBe(503);
    expect(errorsOf(g.events)).toEqual(['rejected_connection']);
    expect(g.gate.pendingCount).toBe(1);
  });

  it('auth: a client that half-closes while pending expires at once, and a later accept is unknown_request', async () => {
    const g = await gated({ auth: true });
    const raw = net.connect(g.port, '127.0.0.1');
    cleanups.push(() => raw.destroy());
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await until(() => g.events.length === 1, 'the request');
    const id = g.events[0]![1] as number;
    raw.end();
    await until(() => g.events.length === 2, 'the expiry');
    expect(g.events[1]).toEqual([76, id]);
    g.gate.accept(id, '');
    expect(errorsOf(g.events)).toEqual(['unknown_request']);
  });

  it('auth: a request nobody answers expires with 503', async () => {
    const g = await gated({ auth: true, auth_timeout_ms: 200 });
    expect((await attempt(g.port)).status).toBe(503);
    expect(g.events.map((e) => e[0])).toEqual([68, 73, 76]);
    expect(g.gate.pendingCount).toBe(0);
  });

  it('answers an unknown request id with unknown_request', async () => {
    const g = await gated({ auth: true });
    g.gate.accept(42, '');
    g.gate.reject(43, 403, '');
    expect(errorsOf(g.events)).toEqual(['unknown_request', 'unknown_request']);
  });

  it('dropWaiting refuses waiting requests with 503', async () => {
    const g = await gated({ auth: true });
    const waiting = attempt(g.port);
    await until(() => g.events.length === 1, 'the request');
    g.gate.dropWaiting();
    expect((await waiting).status).toBe(503);
    expect(g.gate.pendingCount).toBe(0);
  });

  it('drops a connection that does not finish its handshake in time', async () => {
    const g = await gated({ handshake_timeout_ms: 200 });
    const started = Date.now();
    const reply = await rawHttp(g.port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    expect(reply).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(g.logs).toEqual(['dropped a connection that did not finish its WebSocket handshake within 200 ms']);
  });
});
