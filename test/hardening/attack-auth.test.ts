/**
 * Issue #12, attacks on auth mode (`auth: true`): clients that leave while
 * their request is pending, a host whose reject reason could inject HTTP
 * headers, a subprotocol the client never offered, and a flood of requests
 * nobody answers. Defects 7 and 15, and the subprotocol and pending-cap
 * decisions (see protocol/PROTOCOL.md).
 */
import { describe, expect, it } from 'vitest';
import { Command, Event } from '../../protocol/constants.js';
import { openRaw, sleep, upgradeRequest } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';

cleanUpAfterEachAttack();

/** A sidecar in auth mode whose requests would live 10 s unanswered. */
async function authSidecar(extra: Record<string, number | string | boolean | string[]> = {}) {
  const host = await AttackHost.spawn();
  const { port } = await host.start({ auth: true, auth_timeout_ms: 10_000, ...extra });
  return { host, port };
}

describe('issue #12: auth mode', () => {
  it('defect 7: a client that half-closes (FIN) while pending is expired within 1000 ms (auth_timeout_ms 10000)', async () => {
    const { host, port } = await authSidecar();
    const client = openRaw(port);
    const requestId = (await host.next(Event.CONNECTION_REQUEST))[1];
    const finAt = Date.now();
    client.socket.end();
    const expired = await host.find((e) => e[0] === Event.REQUEST_EXPIRED && e[1] === requestId, 1000);
    expect(expired, `no request_expired ${Date.now() - finAt} ms after the FIN; ${host.describe()}`).toBeDefined();
  });

  it('defect 7: accept of a request whose client half-closed answers unknown_request within 1000 ms', async () => {
    const { host, port } = await authSidecar();
    const client = openRaw(port);
    const requestId = (await host.next(Event.CONNECTION_REQUEST))[1] as number;
    client.socket.end();
    await sleep(300);
    const from = host.events.length;
    host.send(Command.ACCEPT, requestId, '');
    const answer = await host.find((e) => e[0] === Event.ERROR || e[0] === Event.CLIENT_CONNECTED, 1000, from);
    expect(answer?.slice(0, 2), host.describe()).toEqual([Event.ERROR, 'unknown_request']);
  });

  it('defect 15: a reject reason with CR/LF answers invalid_argument and 0 injected header lines reach the client', async () => {
    const { host, port } = await authSidecar();
    const client = openRaw(port);
    const requestId = (await host.next(Event.CONNECTION_REQUEST))[1] as number;
    host.send(Command.REJECT, requestId, 499, 'nope\r\nX-Injected: yes\r\nSet-Cookie: session=evil');
    const error = await host.find(Event.ERROR, 1500);
    const head = await client.head(1500).catch(() => '');
    const injected = head.split('\r\n').filter((line) => /^(x-injected|set-cookie):/i.test(line));
    expect(injected, `response head: ${JSON.stringify(head)}`).toEqual([]);
    expect(error?.[1], host.describe()).toBe('invalid_argument');
  });

  it('defect 15: a reject status outside 400-599 (200) answers invalid_argument', async () => {
    const { host, port } = await authSidecar();
    const client = openRaw(port);
    const requestId = (await host.next(Event.CONNECTION_REQUEST))[1] as number;
    host.send(Command.REJECT, requestId, 200, 'fine');
    const error = await host.find(Event.ERROR, 1500);
    const head = await client.head(1500).catch(() => '(none)');
    expect(head.startsWith('HTTP/1.1 200'), `a 200 reached the client: ${JSON.stringify(head)}`).toBe(false);
    expect(error?.[1], host.describe()).toBe('invalid_argument');
  });

  it('decision: accept with a subprotocol the client did not offer answers invalid_argument and keeps the request pending', async () => {
    const { host, port } = await authSidecar({ subprotocols: ['chat', 'game'] });
    const client = openRaw(port, upgradeRequest(port, { headers: { 'Sec-WebSocket-Protocol': 'chat' } }));
    const requestId = (await host.next(Event.CONNECTION_REQUEST))[1] as number;
    const from = host.events.length;
    host.send(Command.ACCEPT, requestId, 'game');
    const first = await host.next((e) => e[0] === Event.ERROR || e[0] === Event.CLIENT_CONNECTED, 1500, from);
    expect(first.slice(0, 2), `${host.describe()}; client saw ${JSON.stringify(client.received().toString('latin1').slice(0, 200))}`).toEqual([
      Event.ERROR,
      'invalid_argument',
    ]);
    host.send(Command.ACCEPT, requestId, 'chat');
    const connected = await host.next(Event.CLIENT_CONNECTED, 1500, from);
    expect((connected[2] as { subprotocol: string }).subprotocol).toBe('chat');
  });

  it('decision: max_pending_requests 20 holds 20 of 30 unanswered upgrades; the other 10 get 503', async () => {
    const { host, port } = await authSidecar({ max_pending_requests: 20 });
    const clients = Array.from({ length: 30 }, () => openRaw(port));
    const heads = await Promise.all(clients.map((client) => client.head(2500).catch(() => 'pending')));
    const refused = heads.filter((head) => head.startsWith('HTTP/1.1 503')).length;
    const stats = await host.stats();
    expect({ pending: stats.pending_requests, refused }, host.describe(3)).toEqual({ pending: 20, refused: 10 });
    expect(host.all(Event.CONNECTION_REQUEST).length).toBe(20);
  });

  it('decision: max_pending_requests defaults to 1000: 1000 of 1010 unanswered upgrades are held, 10 get 503', async () => {
    const { host, port } = await authSidecar();
    const clients = [];
    for (let i = 0; i < 1010; i += 101) {
      clients.push(...Array.from({ length: 101 }, () => openRaw(port)));
      await sleep(50);
    }
    await host.waitUntil(() => (host.all(Event.CONNECTION_REQUEST).length >= 1010 ? true : undefined), 5000);
    const heads = await Promise.all(clients.map((client) => client.head(1000).catch(() => 'pending')));
    const refused = heads.filter((head) => head.startsWith('HTTP/1.1 503')).length;
    const stats = await host.stats();
    expect({ pending: stats.pending_requests, refused }, host.describe(3)).toEqual({ pending: 1000, refused: 10 });
  });

  it('decision: max_pending_requests 0 is refused as invalid_option (a cap cannot be turned off)', async () => {
    const host = await AttackHost.spawn();
    host.send(Command.START, 1, { host: '127.0.0.1', port: 0, auth: true, max_pending_requests: 0 });
    const answer = await host.next((e) => e[0] === Event.LISTENING || e[0] === Event.START_FAILED, 3000);
    expect(answer.slice(0, 2), host.describe()).toEqual([Event.START_FAILED, 'invalid_option']);
  });
});
