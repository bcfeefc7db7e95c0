/** Auth mode, origins, paths, capacity, oversize messages, handshake timeout and TLS. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost, StartFailedError } from '../../host/sidecar-host.js';
import { connect, nextEvent, RecordingClient, startSidecar, stopAllSidecars, until } from '../support/harness.js';

afterEach(stopAllSidecars);

/** Resolves with the HTTP status a refused upgrade got. */
function upgradeStatus(client: RecordingClient): Promise<number> {
  return new Promise((resolve, reject) => {
    client.ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    client.ws.once('open', () => reject(new Error('the upgrade was accepted')));
  });
}

describe('auth mode', () => {
  it('lets the host accept a connection request, which then becomes a client', async () => {
    const started = await startSidecar({ auth: true });
    const request = nextEvent<[number, Record<string, unknown>]>(started.host, 'connectionRequested');
    const client = new RecordingClient(`${started.url}/join?token=good`);
    const [requestId, info] = await request;
    expect(info).toMatchObject({ path: '/join', query: 'token=good', address: '127.0.0.1' });
    const connected = nextEvent<[number]>(started.host, 'connected');
    started.host.accept(requestId);
    await client.opened();
    const [id] = await connected;
    started.host.sendText(id, 'in');
    await until(() => client.texts.includes('in'), 'the accepted client to be served');
  });

  it('rejects with the status the host chose; the client never exists', async () => {
    const started = await startSidecar({ auth: true });
    let connectedCount = 0;
    started.host.on('connected', () => connectedCount++);
    const request = nextEvent<[number]>(started.host, 'connectionRequested');
    const client = new RecordingClient(started.url);
    const status = upgradeStatus(client);
    const [requestId] = await request;
    started.host.reject(requestId, 401, 'bad token');
    expect(await status).toBe(401);
    expect((await started.host.stats()).clients).toBe(0);
    expect(connectedCount).toBe(0);
  });

  it('rejects a request the host never answers with 503 at the auth timeout', async () => {
    const started = await startSidecar({ auth: true, auth_timeout_ms: 300 });
    const requested = nextEvent<[number]>(started.host, 'connectionRequested');
    const expired = nextEvent<[number]>(started.host, 'connectionRequestExpired');
    const client = new RecordingClient(started.url);
    const startedAt = performance.now();
    expect(await upgradeStatus(client)).toBe(503);
    expect((await expired)[0]).toBe((await requested)[0]);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
    const late = nextEvent<[string, string]>(started.host, 'errorReported', (code) => code === 'unknown_request');
    started.host.accept(1);
    expect((await late)[1]).toMatch(/connection request 1 is not pending/);
  });
});

it('tells the host when a pending connection request goes away before an answer', async () => {
  const started = await startSidecar({ auth: true });
  const requested = nextEvent<[number]>(started.host, 'connectionRequested');
  const expired = nextEvent<[number]>(started.host, 'connectionRequestExpired');
  const client = new RecordingClient(started.url);
  const [requestId] = await requested;
  client.ws.terminate();
  expect((await expired)[0]).toBe(requestId);
});

describe('access control and limits', () => {
  it('enforces allowed origins with 403', async () => {
    const started = await startSidecar({ allowed_origins: ['https://game.example'] });
    expect(await upgradeStatus(new RecordingClient(started.url, { origin: 'https://evil.example' }))).toBe(403);
    await connect(started, '/', { origin: 'https://game.example' });
  });

  it('accepts upgrades only on the configured path', async () => {
    const started = await startSidecar({ path: '/ws' });
    expect(await upgradeStatus(new RecordingClient(`${started.url}/other`))).toBe(404);
    await connect(started, '/ws');
  });

  it('refuses clients past max_clients with 503', async () => {
    const started = await startSidecar({ max_clients: 2 });
    await connect(started);
    await connect(started);
    expect(await upgradeStatus(new RecordingClient(started.url))).toBe(503);
  });

  it('closes a client that sends an oversize message with 1009 and reports it', async () => {
    const started = await startSidecar({ max_message_size: 1024 });
    const { client, id } = await connect(started);
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported');
    client.ws.send(Buffer.alloc(2048));
    expect(await client.closed()).toBe(1009);
    expect((await disconnected).slice(0, 2)).toEqual([id, 1009]);
    expect((await error)[0]).toBe('client_protocol_error');
  });

  it('answers a plain HTTP request with 426 and garbage with 400', async () => {
    const started = await startSidecar();
    const response = await fetch(`http://127.0.0.1:${started.listening.port}/`);
    expect(response.status).toBe(426);
    const socket = net.connect(started.listening.port, '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.write('\x00\x01garbage that is not HTTP\r\n\r\n');
    await until(() => reply.length > 0, 'a reply to garbage');
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    socket.destroy();
  });

  it('drops a handshake that trickles in byte by byte at the handshake timeout', async () => {
    const started = await startSidecar({ handshake_timeout_ms: 400 });
    const socket = net.connect(started.listening.port, '127.0.0.1');
    const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n';
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < request.length && !socket.destroyed) socket.write(request[sent++]!);
    }, 50);
    const startedAt = performance.now();
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(drip);
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(2000);
    await connect(started); // others are still served
  });

  it('sends configured response headers and negotiates permessage-deflate when enabled', async () => {
    const started = await startSidecar({ response_headers: { 'x-game': 'demo' }, permessage_deflate: true });
    const client = new RecordingClient(started.url);
    const headers = new Promise<Record<string, string | string[] | undefined>>((resolve) => client.ws.once('upgrade', (res) => resolve(res.headers)));
    await client.opened();
    expect((await headers)['x-game']).toBe('demo');
    expect(client.ws.extensions).toContain('permessage-deflate');
    const text = nextEvent<[number, string]>(started.host, 'text');
    client.ws.send('x'.repeat(5000));
    expect((await text)[1]).toBe('x'.repeat(5000));
  });

  it('listens on IPv6', async () => {
    const started = await startSidecar({ host: '::1' });
    const { client, id } = await connect(started);
    started.host.sendText(id, 'v6');
    await until(() => client.texts.includes('v6'), 'a message over IPv6');
  });
});

describe('TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });

  it('serves wss:// with a certificate generated in the test', async () => {
    const started = await startSidecar({ tls_cert_path: cert, tls_key_path: key });
    expect(started.listening.tls).toBe(true);
    const { client, id } = await connect(started, '/', { rejectUnauthorized: false });
    started.host.sendText(id, 'secret');
    await until(() => client.texts.includes('secret'), 'a message over TLS');
  });

  it('refuses TLS 1.1 clients: TLS 1.2 is the minimum', async () => {
    const started = await startSidecar({ tls_cert_path: cert, tls_key_path: key });
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port: started.listening.port, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', (error) => resolve(`error: ${error.message}`));
    });
    expect(outcome).toMatch(/^error/);
  });

  it('fails to start with a clear error when the certificate is missing', async () => {
    const host = await SidecarHost.launch();
    const failure = (await host.start({ port: 0, tls_cert_path: join(dir, 'missing.pem'), tls_key_path: key }).catch((e: unknown) => e)) as StartFailedError;
    expect(failure.code).toBe('tls_file_unreadable');
    expect(failure.message).toContain('missing.pem');
    expect(failure.message).toContain('no such file');
    await host.close();
  });

  it('fails to start with tls_invalid when the files are not PEM', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    const host = await SidecarHost.launch();
    const failure = (await host.start({ port: 0, tls_cert_path: junk, tls_key_path: junk }).catch((e: unknown) => e)) as StartFailedError;
    expect(failure.code).toBe('tls_invalid');
    await host.close();
  });
});
