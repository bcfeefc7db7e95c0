/**
 * Broadcast fan-out framed once and written to every socket, and per-turn corked writes: every
 * frame size class, order against direct sends, rooms, permessage-deflate (which takes ws's own
 * path) and the outbound limit still closing a client that stopped reading. The frame itself is
 * tested in test/sidecar/outbound.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, startSidecar, stopAllSidecars, until, type Started } from '../support/harness.js';
import { RawClient } from '../support/raw-client.js';

afterEach(stopAllSidecars);

const SIZES = [0, 1, 125, 126, 65535, 65536, 200_000];

async function connectMany(started: Started, count: number) {
  return Promise.all(Array.from({ length: count }, () => connect(started)));
}

describe('fan-out', () => {
  it('delivers broadcasts of every size, text and binary, in order with direct sends', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 3);
    const expectedTexts: string[][] = clients.map(() => []);
    const expectedBinaries: number[][] = clients.map(() => []);
    for (const size of SIZES) {
      const text = 'é'.repeat(size >> 1) + 'x'.repeat(size & 1);
      started.host.broadcastText(text);
      clients.forEach((_, i) => expectedTexts[i]!.push(text));
      started.host.sendText(clients[1]!.id, `direct ${size}`);
      expectedTexts[1]!.push(`direct ${size}`);
      started.host.broadcastBinary(new Uint8Array(size).fill(size & 255), clients[2]!.id);
      clients.forEach((_, i) => i !== 2 && expectedBinaries[i]!.push(size));
    }
    await until(
      () => clients.every(({ client }, i) => client.texts.length === expectedTexts[i]!.length && client.binaries.length === expectedBinaries[i]!.length),
      'every message',
      20_000,
    );
    clients.forEach(({ client }, i) => {
      expect(client.texts).toEqual(expectedTexts[i]);
      expect(client.binaries.map((b) => b.length)).toEqual(expectedBinaries[i]);
      client.binaries.forEach((b, j) => expect(b.every((v) => v === (expectedBinaries[i]![j]! & 255))).toBe(true));
    });
  }, 30_000);

  it('fans out room broadcasts framed once to members only', async () => {
    const started = await startSidecar();
    const clients = await connectMany(started, 4);
    for (const { id } of clients.slice(0, 3)) started.host.joinRoom(id, 'r');
    for (let i = 0; i < 50; i++) started.host.roomText('r', `m${i}`, clients[0]!.id);
    started.host.broadcastText('end');
    await until(() => clients.every(({ client }) => client.texts.at(-1) === 'end'), 'the end marker');
    const numbered = Array.from({ length: 50 }, (_, i) => `m${i}`);
    expect(clients.map(({ client }) => client.texts.length)).toEqual([1, 51, 51, 1]);
    expect(clients[1]!.client.texts.slice(0, 50)).toEqual(numbered);
    expect(clients[2]!.client.texts.slice(0, 50)).toEqual(numbered);
  });

  it('broadcasts through ws itself when permessage-deflate is on', async () => {
    const started = await startSidecar({ permessage_deflate: true });
    const clients = await connectMany(started, 2);
    const big = 'compress me '.repeat(1000);
    started.host.broadcastText(big);
    started.host.broadcastBinary(Uint8Array.from([1, 2, 3]));
    await until(() => clients.every(({ client }) => client.texts.length === 1 && client.binaries.length === 1), 'both messages');
    for (const { client } of clients) {
      expect(client.texts).toEqual([big]);
      expect([...client.binaries[0]!]).toEqual([1, 2, 3]);
    }
  });

  it('closes a client that stopped reading broadcasts with 1008 and keeps serving the others', async () => {
    const started = await startSidecar({ max_outbound_buffer: 256 * 1024 });
    const reader = await connect(started);
    const connected = nextEvent<[number]>(started.host, 'connected');
    const { socket } = await RawClient.open(started.listening.port);
    const [stalledId] = await connected;
    socket.pause();
    let overflowed = false;
    const overflow = nextEvent<[string, string, number]>(started.host, 'errorReported', (code) => code === 'outbound_overflow');
    void overflow.then(() => (overflowed = true));
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    while (sent < 2000 && !overflowed) {
      for (let i = 0; i < 4; i++, sent++) started.host.broadcastBinary(chunk);
      await until(() => reader.client.binaries.length >= sent, 'the reading client to keep up', 10_000);
    }
    const [, , id] = await overflow;
    expect(id).toBe(stalledId);
    expect(sent).toBeLessThan(2000);
    started.host.broadcastText('still here');
    await until(() => reader.client.texts.includes('still here'), 'the reading client to get the next broadcast');
    expect(reader.client.closeCode).toBeUndefined();
    socket.destroy();
  }, 60_000);
});
