/** Start failures, stop, stdin EOF, signals and bad input on the command stream. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SidecarHost, StartFailedError } from '../../host/sidecar-host.js';
import { resolveSidecarCommand } from '../../host/sidecar-locator.js';
import { Command, Event, STDIN_CREDIT_ARG } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/frame-codec.js';
import { unpackValue } from '../../protocol/msgpack.js';
import { connect, nextEvent, startSidecar, stopAllSidecars, until } from '../support/harness.js';

afterEach(stopAllSidecars);

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('sidecar lifecycle', () => {
  it('announces protocol and sidecar versions in hello', async () => {
    const host = await SidecarHost.launch();
    expect(host.protocolVersion).toBe(1);
    expect(host.sidecarVersion).toBe(process.env.npm_package_version ?? '0.1.0');
    expect(host.capabilities).toEqual(expect.arrayContaining(['tls', 'auth', 'rooms']));
    await host.close();
  });

  it('fails to start on a port in use, with a reason a user understands, and stays usable', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const host = await SidecarHost.launch();
    const failure = await host.start({ port, host: '127.0.0.1' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartFailedError);
    expect((failure as StartFailedError).code).toBe('address_in_use');
    expect((failure as StartFailedError).message).toContain(`port ${port} on 127.0.0.1 is already in use`);
    blocker.close();
    const listening = await host.start({ port: 0, host: '127.0.0.1' });
    expect(listening.port).toBeGreaterThan(0);
    await host.close();
  });

  it('rejects a start whose protocol version differs, naming both versions', async () => {
    const host = await SidecarHost.launch();
    const failed = nextEvent<[unknown[]]>(host, 'event', (event) => (event as unknown[])[0] === 66);
    host.sendValue([1, 99, { port: 0 }]);
    const [[, code, message]] = (await failed) as unknown as [[number, string, string]];
    expect(code).toBe('protocol_mismatch');
    expect(message).toContain('protocol 99');
    expect(message).toContain('protocol 1');
    await host.close();
  });

  it('rejects options of the wrong type with invalid_option', async () => {
    const host = await SidecarHost.launch();
    const failure = (await host.start({ port: 'eighty' as unknown as number }).catch((e: unknown) => e)) as StartFailedError;
    expect(failure.code).toBe('invalid_option');
    expect(failure.message).toMatch(/"port" must be an integer/);
    await host.close();
  });

  it('stop closes clients with 1001, frees the port, and can start again', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const disconnected = nextEvent<[number, number]>(started.host, 'disconnected');
    await started.host.stop();
    expect(await client.closed()).toBe(1001);
    expect((await disconnected).slice(0, 2)).toEqual([id, 1001]);
    expect(await canBind(started.listening.port)).toBe(true);
    const again = await started.host.start({ port: 0, host: '127.0.0.1' });
    expect(again.port).toBeGreaterThan(0);
  });

  it('exits within 1 s of stdin EOF: clients get 1001 and the port is free', async () => {
    const started = await startSidecar();
    const { client } = await connect(started);
    const closedAt = performance.now();
    const code = await started.host.close();
    const elapsed = performance.now() - closedAt;
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(1000);
    expect(await client.closed()).toBe(1001);
    expect(await canBind(started.listening.port)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('shuts down gracefully on %s', async (signal) => {
    const started = await startSidecar();
    const { client } = await connect(started);
    started.host.child.kill(signal);
    expect(await started.host.waitForExit()).toBe(0);
    expect(await client.closed()).toBe(1001);
  });

  it('answers malformed and unknown commands with error events and keeps serving', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const errors: Array<[string, string, number]> = [];
    started.host.on('errorReported', (...args) => errors.push(args));
    started.host.sendValue('not an array');
    started.host.sendValue([3, 'one', 'text']);
    started.host.sendValue([99]);
    started.host.sendValue([70, 1, 'an event sent the wrong way']);
    started.host.writeRaw(Buffer.from([2, 0, 0, 0, 0xc1, 0xc1])); // 0xc1 is never valid MessagePack
    started.host.sendText(12345, 'nobody');
    await until(() => errors.length === 6, 'six error events');
    expect(errors.map(([code]) => code)).toEqual([
      'malformed_command',
      'malformed_command',
      'unknown_command',
      'unknown_command',
      'malformed_command',
      'unknown_client',
    ]);
    expect(errors[1]![1]).toBe('send_text argument 1 must be int, got str');
    expect(errors[3]![1]).toMatch(/event opcode/);
    expect(errors[5]).toEqual(['unknown_client', 'no client with id 12345 is connected (it may have disconnected already)', 12345]);
    started.host.sendText(id, 'alive');
    await until(() => client.texts.includes('alive'), 'the client to be served after bad input');
  });

  it('exits non-zero on an impossible frame length instead of desynchronizing', async () => {
    const host = await SidecarHost.launch();
    const header = Buffer.alloc(4);
    header.writeUInt32LE(0xffffffff);
    host.writeRaw(header);
    expect(await host.waitForExit()).toBe(2);
    expect(host.stderr).toMatch(/impossible frame length 4294967295/);
  });

  it('answers ping with pong', async () => {
    const host = await SidecarHost.launch();
    const rtt = await host.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    await host.close();
  });
});

describe('stop racing start', () => {
  it('answers the start, then stops and releases the port, when stop arrives before listening completes', async () => {
    const host = await SidecarHost.launch();
    const events: number[] = [];
    host.on('event', (event) => events.push(event[0]));
    host.sendValue([1, 1, { port: 0, host: '127.0.0.1' }]);
    host.sendValue([2]);
    await until(() => events.includes(67), 'stopped');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Every start gets exactly one answer, before the stop's (PROTOCOL.md, issue #12 defect 10).
    expect(events).toEqual([65, 67]);
    const listening = await host.start({ port: 0, host: '127.0.0.1' });
    expect(listening.port).toBeGreaterThan(0);
    await host.close();
  });
});

describe('ending without stdin EOF (PROTOCOL.md, "Transport")', () => {
  it('shutdown closes clients with 1001 and exits 0 while stdin stays open', async () => {
    const started = await startSidecar();
    const { client } = await connect(started);
    const sentAt = performance.now();
    started.host.send([Command.SHUTDOWN]);
    started.host.send([Command.PING, 1]); // behind shutdown: ignored
    started.host.flush();
    expect(await started.host.waitForExit()).toBe(0);
    expect(performance.now() - sentAt).toBeLessThan(1000);
    expect(await client.closed()).toBe(1001);
    expect(await canBind(started.listening.port)).toBe(true);
  });

  it('exits within 1 s of its parent process ending, though another process keeps its stdin open', async () => {
    const sidecar = resolveSidecarCommand();
    // The parent starts the sidecar with a stdin pipe of its own and hands the write end to a
    // helper (as a game's later child inherits it); then the parent is killed, as a game that
    // crashes. The helper ends by itself after 3 s.
    const parentScript = `const { spawn } = require('node:child_process');
      const c = spawn(${JSON.stringify(sidecar.file)}, ${JSON.stringify(sidecar.args)}, { stdio: ['pipe', 'inherit', 'inherit'] });
      spawn('sleep', ['3'], { stdio: [c.stdin, 'ignore', 'ignore'] }).unref();
      setTimeout(() => {}, 10000);`;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = Buffer.alloc(0);
    parent.stdout.on('data', (chunk: Buffer) => (output = Buffer.concat([output, chunk])));
    const stdoutEnded = new Promise<number>((resolve) => parent.stdout.on('end', () => resolve(performance.now())));
    const parentExited = new Promise<number>((resolve) => parent.on('exit', () => resolve(performance.now())));
    await until(() => new FrameDecoder().push(output).length > 0, 'the sidecar says hello');
    expect((unpackValue(new FrameDecoder().push(output)[0]!) as number[])[0]).toBe(64);
    parent.kill('SIGKILL');
    const gone = (await stdoutEnded) - (await parentExited);
    expect(gone).toBeLessThan(1000);
  });

  it('with --stdin-credit, answers every read of stdin with the running total of bytes read', async () => {
    const sidecar = resolveSidecarCommand();
    const host = await SidecarHost.launch({ command: { ...sidecar, args: [...sidecar.args, STDIN_CREDIT_ARG] } });
    const totals: number[] = [];
    host.on('event', (event) => {
      if (event[0] === Event.CONSUMED) totals.push(event[1] as number);
    });
    await host.ping();
    const pingBytes = totals.at(-1)!;
    expect(pingBytes).toBeGreaterThan(0);
    host.sendValue([Command.PING, 2, 'x'.repeat(100_000)]);
    await until(() => totals.at(-1) === pingBytes + 4 + 3 + 5 + 100_000, 'credit for the 100 kB frame (prefix, array, op, token, str32 head, text)');
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
    await host.close();
  });
});
