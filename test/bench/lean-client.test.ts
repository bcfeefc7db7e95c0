/**
 * The bench's lean client against a real `ws` server: if it miscounted, every throughput figure
 * in bench/results would be wrong.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { LeanClient, maskedFrame, repeatedFrames } from '../../bench/lean-client.js';
import { until } from '../support/harness.js';

let server: Server | undefined;
let wss: WebSocketServer | undefined;

afterEach(async () => {
  for (const ws of wss?.clients ?? []) ws.terminate();
  wss?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = wss = undefined;
});

async function startServer(onConnection: (ws: WebSocket) => void, options: { path?: string } = {}): Promise<string> {
  server = createServer();
  wss = new WebSocketServer({ server, path: options.path });
  wss.on('connection', onConnection);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('LeanClient', () => {
  it('sends frames the server reads as text and binary messages', async () => {
    const received: Array<[string, boolean]> = [];
    const url = await startServer((ws) => ws.on('message', (data, isBinary) => received.push([data.toString(), isBinary])));
    const client = await LeanClient.open(url, '127.0.0.1', 5000);
    client.send(repeatedFrames(maskedFrame(Buffer.from('héllo'), 0x1), 3));
    client.send(maskedFrame(Buffer.alloc(70_000, 0x61), 0x2));
    await until(() => received.length === 4, 'four messages at the server');
    expect(received.slice(0, 3)).toEqual([['héllo', false], ['héllo', false], ['héllo', false]]);
    expect(received[3]![0]).toBe('a'.repeat(70_000));
    expect(received[3]![1]).toBe(true);
    client.close();
    await client.whenClosed;
  });

  it('counts whole messages of every size, also when frames straddle reads', async () => {
    const sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000];
    const url = await startServer((ws) => {
      for (const size of sizes) ws.send(Buffer.alloc(size, 1), { binary: true });
      ws.send('end', { fin: false });
      ws.send(' of a fragmented message', { fin: true });
      for (let i = 0; i < 1000; i++) ws.send('x');
    });
    let counted = 0;
    const client = await LeanClient.open(url, '127.0.0.1', 5000);
    client.onMessages = (n) => (counted += n);
    await until(() => counted >= sizes.length + 1 + 1000, 'every message counted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counted).toBe(sizes.length + 1 + 1000);
    client.terminate();
  });

  it('answers pings and the closing handshake', async () => {
    let pong = '';
    let closeCode = 0;
    const url = await startServer((ws) => {
      ws.on('pong', (data) => {
        pong = data.toString();
        ws.close(4001, 'done');
      });
      ws.on('close', (code) => (closeCode = code));
      ws.ping('are you there');
    });
    const client = await LeanClient.open(url, '127.0.0.1', 5000);
    await client.whenClosed;
    expect(pong).toBe('are you there');
    await until(() => closeCode !== 0, 'the server to see the close');
    expect(closeCode).toBe(4001);
  });

  it('closes with 1000 when asked', async () => {
    let closeCode = 0;
    const url = await startServer((ws) => ws.on('close', (code) => (closeCode = code)));
    const client = await LeanClient.open(url, '127.0.0.1', 5000);
    client.close();
    await until(() => closeCode !== 0, 'the server to see the close');
    expect(closeCode).toBe(1000);
  });

  it('rejects with the status line when the upgrade is refused', async () => {
    const url = await startServer(() => {}, { path: '/game' });
    await expect(LeanClient.open(url, '127.0.0.1', 5000)).rejects.toThrow(/upgrade refused: HTTP\/1\.1 400|connection closed during the handshake/);
  });
});
