/** Text and binary both ways, fragmentation, close codes and disconnects, through the real sidecar process. */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars, until } from '../support/harness.js';

afterEach(stopAllSidecars);

describe('messaging through the sidecar', () => {
  it('reports a connected client with its address, path, query and headers', async () => {
    const started = await startSidecar({ subprotocols: ['game.v1'] });
    const connected = nextEvent<[number, Record<string, unknown>]>(started.host, 'connected');
    const { RecordingClient } = await import('../support/harness.js');
    const client = await new RecordingClient(`${started.url}/play?room=lobby`, { protocols: ['chat', 'game.v1'], headers: { 'x-player': 'ada' } }).opened();
    const [id, info] = await connected;
    expect(id).toBeGreaterThan(0);
    expect(info).toMatchObject({ address: '127.0.0.1', path: '/play', query: 'room=lobby', subprotocol: 'game.v1' });
    expect((info.headers as Record<string, string>)['x-player']).toBe('ada');
    expect(info.port).toBe((client.ws as unknown as { _socket: { localPort: number } })._socket.localPort);
  });

  it('keeps text and binary distinct in both directions', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const text = nextEvent<[number, string]>(started.host, 'text');
    client.ws.send('héllo ✓');
    expect(await text).toEqual([id, 'héllo ✓']);
    const binary = nextEvent<[number, Buffer]>(started.host, 'binary');
    client.ws.send(Buffer.from([0, 1, 2, 255]));
    const [binaryId, data] = await binary;
    expect(binaryId).toBe(id);
    expect([...data]).toEqual([0, 1, 2, 255]);

    started.host.sendText(id, 'Welcome to the server!');
    started.host.sendBinary(id, Uint8Array.from([9, 8, 7]));
    await until(() => client.texts.length === 1 && client.binaries.length === 1, 'both messages at the client');
    expect(client.texts).toEqual(['Welcome to the server!']);
    expect([...client.binaries[0]!]).toEqual([9, 8, 7]);
  });

  it('reassembles a message fragmented into 3 frames', async () => {
    const started = await startSidecar();
    const { client } = await connect(started);
    const text = nextEvent<[number, string]>(started.host, 'text');
    client.ws.send('one ', { fin: false });
    client.ws.send('two ', { fin: false });
    client.ws.send('three', { fin: true });
    expect((await text)[1]).toBe('one two three');
  });

  it('passes a client close code 4001 and its reason to the host unchanged', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    client.ws.close(4001, 'player quit');
    expect(await disconnected).toEqual([id, 4001, 'player quit', true]);
  });

  it('reports 1006 and not clean when a client vanishes without a close frame', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    client.ws.terminate();
    const [gone, code, , clean] = await disconnected;
    expect([gone, code, clean]).toEqual([id, 1006, false]);
  });

  it('disconnects a client with the host code and reason, as the client sees it', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected');
    started.host.disconnect(id, 4002, 'kicked');
    expect(await client.closed()).toBe(4002);
    expect(client.closeReason).toBe('kicked');
    expect(await disconnected).toEqual([id, 4002, 'kicked', true]);
  });

  it('refuses an invalid close code from the host and keeps the client', async () => {
    const started = await startSidecar();
    const { client, id } = await connect(started);
    const error = nextEvent<[string, string, number]>(started.host, 'errorReported');
    started.host.disconnect(id, 1006, 'no');
    const [code, message] = await error;
    expect(code).toBe('invalid_argument');
    expect(message).toMatch(/1000 or a code from 3000 to 4999/);
    started.host.sendText(id, 'still here');
    await until(() => client.texts.includes('still here'), 'the client to still receive');
  });

  it('never reuses client ids', async () => {
    const started = await startSidecar();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { client, id } = await connect(started);
      ids.push(id);
      const gone = nextEvent(started.host, 'disconnected');
      client.ws.close();
      await gone;
    }
    expect(new Set(ids).size).toBe(5);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
  });

  it('answers hand-made frames on a raw TCP socket: a masked text frame, then a ping', async () => {
    const started = await startSidecar();
    const socket = net.connect(started.listening.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.write(
      'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await until(() => Buffer.concat(received).includes('\r\n\r\n'), 'the 101 response');
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1\.1 101 /);
    expect(Buffer.concat(received).toString()).toContain('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    received.length = 0;
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('raw');
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    const text = nextEvent<[number, string]>(started.host, 'text');
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    expect((await text)[1]).toBe('raw');
    socket.write(Buffer.concat([Buffer.from([0x89, 0x80]), mask]));
    await until(() => Buffer.concat(received).length >= 2, 'the pong');
    expect(Buffer.concat(received).subarray(0, 2)).toEqual(Buffer.from([0x8a, 0x00]));
    socket.destroy();
  });
});
