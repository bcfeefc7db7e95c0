/**
 * TLS beyond test/e2e/access.test.ts (wss with a generated certificate, TLS 1.1
 * refused, missing certificate, non-PEM files): a missing or unreadable key, a
 * key that belongs to another certificate, and TLS 1.2 clients accepted
 * explicitly, by Node's TLS and by `openssl s_client`; a certificate out of date is served with
 * a warning (issue #12's decision).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost, StartFailedError } from '../../host/sidecar-host.js';
import { certificateValidityProblem } from '../../sidecar/http-listener.js';
import { connect, nextEvent, startSidecar, stopAllSidecars, until } from '../support/harness.js';

afterEach(stopAllSidecars);

const dir = mkdtempSync(join(tmpdir(), 'sidecar-tls-hardening-'));
function makePair(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { cert, key };
}
const pair = makePair('a');

/** A self-signed certificate valid only on 2020-01-01 (openssl req cannot back-date one; openssl ca can). */
function makeExpiredPair(): { cert: string; key: string } {
  const ca = join(dir, 'expired-ca');
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, 'index.txt'), '');
  writeFileSync(join(ca, 'serial'), '01\n');
  writeFileSync(
    join(ca, 'ca.cnf'),
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${ca}/index.txt\nserial = ${ca}/serial\nnew_certs_dir = ${ca}\n` +
      'default_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n',
  );
  const key = join(dir, 'expired-key.pem');
  const cert = join(dir, 'expired-cert.pem');
  const csr = join(ca, 'req.csr');
  execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost'], { stdio: 'ignore' });
  execFileSync('openssl', ['ca', '-batch', '-config', join(ca, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr, '-out', cert, '-startdate', '20200101000000Z', '-enddate', '20200102000000Z'], {
    stdio: 'ignore',
  });
  return { cert, key };
}
const other = makePair('b');

async function startFailure(options: Record<string, unknown>): Promise<StartFailedError> {
  const host = await SidecarHost.launch();
  try {
    const failure = await host.start({ port: 0, host: '127.0.0.1', ...options }).then(
      () => new Error('started'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StartFailedError);
    // The sidecar stays usable after a failed start.
    const listening = await host.start({ port: 0, host: '127.0.0.1' });
    expect(listening.tls).toBe(false);
    return failure as StartFailedError;
  } finally {
    await host.close();
  }
}

describe('TLS start errors', () => {
  it('a missing key file: tls_file_unreadable naming the key, its path and the option to fix', async () => {
    const missing = join(dir, 'no-such-key.pem');
    const failure = await startFailure({ tls_cert_path: pair.cert, tls_key_path: missing });
    expect(failure.code).toBe('tls_file_unreadable');
    expect(failure.message).toBe(`cannot read the TLS key "${missing}" (no such file): point tls_key_path at a readable PEM file`);
  });

  it('a key path that is a folder: tls_file_unreadable', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const failure = await startFailure({ tls_cert_path: pair.cert, tls_key_path: folder });
    expect(failure.code).toBe('tls_file_unreadable');
    expect(failure.message).toContain('it is a folder');
  });

  it('a key that belongs to another certificate: tls_invalid naming both files', async () => {
    const failure = await startFailure({ tls_cert_path: pair.cert, tls_key_path: other.key });
    expect(failure.code).toBe('tls_invalid');
    expect(failure.message).toContain(pair.cert);
    expect(failure.message).toContain(other.key);
    expect(failure.message).toMatch(/key must belong to the certificate/);
  });

  it('a certificate without a key: invalid_option', async () => {
    const failure = await startFailure({ tls_cert_path: pair.cert });
    expect(failure.code).toBe('invalid_option');
    expect(failure.message).toMatch(/go together/);
  });
});

describe('TLS versions', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)('accepts a %s-only client and exchanges messages both ways', async (version) => {
    const started = await startSidecar({ tls_cert_path: pair.cert, tls_key_path: pair.key });
    const { client, id } = await connect(started, '/', { rejectUnauthorized: false, minVersion: version, maxVersion: version });
    const socket = (client.ws as unknown as { _socket: TLSSocket })._socket;
    expect(socket.getProtocol()).toBe(version);
    const text = nextEvent<[number, string]>(started.host, 'text');
    client.ws.send(`hello over ${version}`);
    expect(await text).toEqual([id, `hello over ${version}`]);
    started.host.sendText(id, 'and back');
    await until(() => client.texts.includes('and back'), 'the reply over TLS');
  });

  it('openssl s_client: TLS 1.2 handshakes, TLS 1.1 does not', async () => {
    const started = await startSidecar({ tls_cert_path: pair.cert, tls_key_path: pair.key });
    const run = (flag: string): string => {
      const result = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${started.listening.port}`, flag, '-brief'], {
        input: '',
        encoding: 'utf8',
        timeout: 10_000,
      });
      return `${result.stdout}\n${result.stderr}`;
    };
    expect(run('-tls1_2')).toMatch(/Protocol version: TLSv1\.2/);
    expect(run('-tls1_1')).not.toMatch(/Protocol version: TLSv1\.1/);
  });
});

describe('TLS certificate dates (decision: served, with a warning)', () => {
  it('an expired certificate: tls_certificate_expired before listening, naming the file and the date, and the server listens', async () => {
    const expired = makeExpiredPair();
    const host = await SidecarHost.launch();
    try {
      const errors: Array<[string, string]> = [];
      host.on('errorReported', (code, message) => errors.push([code, message]));
      const listening = await host.start({ port: 0, host: '127.0.0.1', tls_cert_path: expired.cert, tls_key_path: expired.key });
      expect(listening.tls).toBe(true);
      expect(errors).toEqual([
        ['tls_certificate_expired', `the TLS certificate "${expired.cert}" expired on 2020-01-02T00:00:00.000Z: clients will refuse to connect; renew it`],
      ]);
    } finally {
      await host.close();
    }
  });

  it('a certificate not valid yet, or in date', () => {
    const pem = readFileSync(pair.cert);
    expect(certificateValidityProblem(pem, 'c.pem', new Date('2000-01-01T00:00:00Z'))).toMatch(/^the TLS certificate "c.pem" is not valid before .*check this machine's clock$/);
    expect(certificateValidityProblem(pem, 'c.pem')).toBeUndefined();
  });
});
