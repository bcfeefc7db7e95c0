/** Heartbeats drop dead peers and keep live ones; auth can choose the subprotocol. */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, nextEvent, RecordingClient, startSidecar, stopAllSidecars } from '../support/harness.js';
import { RawClient } from '../support/raw-client.js';

afterEach(stopAllSidecars);

describe('heartbeat', () => {
  it('drops a peer that never answers pings with 1006 and keeps one that does', async () => {
    const started = await startSidecar({ heartbeat_interval_ms: 150, heartbeat_timeout_ms: 150 });
    const { client: live, id: liveId } = await connect(started); // ws answers pings by itself
    const connected = nextEvent<[number]>(started.host, 'connected');
    const { socket } = await RawClient.open(started.listening.port); // reads, but never answers a ping
    const [deadId] = await connected;
    const timeout = nextEvent<[string, string, number]>(started.host, 'errorReported', (code) => code === 'heartbeat_timeout');
    const disconnected = nextEvent<[number, number, string, boolean]>(started.host, 'disconnected', (id) => id === deadId);
    const [, message, errorId] = await timeout;
    expect(errorId).toBe(deadId);
    expect(message).toMatch(/did not answer a ping/);
    expect(await disconnected).toEqual([deadId, 1006, 'heartbeat timeout', false]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(live.closeCode).toBeUndefined();
    started.host.sendText(liveId, 'still alive');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live.texts).toContain('still alive');
    socket.destroy();
  });
});

describe('subprotocols', () => {
  it('lets the host pick the subprotocol when it accepts a request', async () => {
    const started = await startSidecar({ auth: true, subprotocols: ['a', 'b'] });
    const request = nextEvent<[number]>(started.host, 'connectionRequested');
    const connected = nextEvent<[number, { subprotocol: string }]>(started.host, 'connected');
    const client = new RecordingClient(started.url, { protocols: ['a', 'b'] });
    started.host.accept((await request)[0], 'b');
    await client.opened();
    expect(client.ws.protocol).toBe('b');
    expect((await connected)[1].subprotocol).toBe('b');
  });

  it('chooses by the server preference order otherwise, and none when nothing matches', async () => {
    const started = await startSidecar({ subprotocols: ['b', 'a'] });
    const { client } = await connect(started, '/', { protocols: ['a', 'b'] });
    expect(client.ws.protocol).toBe('b');
    const plain = await connect(started, '/', { protocols: ['zzz'] }).catch((error: Error) => error);
    // ws clients refuse a server that picks no subprotocol from a non-empty offer.
    expect(plain).toBeInstanceOf(Error);
  });
});
