/** What a paused client may make the sidecar hold (sidecar/paused-backlog.ts), on fake clients. */
import type { WebSocket } from 'ws';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../sidecar/client.js';
import { PausedBacklog } from '../../sidecar/paused-backlog.js';

const MiB = 1024 * 1024;

interface Fake {
  client: Client;
  /** Frames the fake receiver inflated, and the error a discarded one got. */
  inflated: string[];
  discarded: Error[];
  /** Offers one compressed frame to the (gated) receiver. */
  frame(name: string): void;
  socket: { paused: boolean; destroyed: boolean; readableEnded: boolean };
}

function fake(deflate = true): Fake {
  const inflated: string[] = [];
  const discarded: Error[] = [];
  const socket = {
    paused: true,
    destroyed: false,
    readableEnded: false,
    isPaused: () => socket.paused,
    pause: () => (socket.paused = true),
    resume: () => (socket.paused = false),
  };
  const receiver = {
    decompress(data: Buffer, callback: (error?: Error | null) => void): void {
      inflated.push(data.toString());
      callback(null);
    },
  };
  const ws = { extensions: deflate ? 'permessage-deflate' : '', _receiver: receiver, _socket: socket } as unknown as WebSocket;
  const client = createClient(1, ws, 0);
  const frame = (name: string): void =>
    (receiver as unknown as { decompress(data: Buffer, callback: (error?: Error | null) => void): void }).decompress(Buffer.from(name), (error) => {
      if (error) discarded.push(error);
    });
  return { client, inflated, discarded, frame, socket };
}

let backlog: PausedBacklog;
let queueFull: boolean;

beforeEach(() => {
  queueFull = false;
  backlog = new PausedBacklog(() => queueFull);
  backlog.configure(MiB, 4 * MiB);
});

describe('PausedBacklog', () => {
  it('gates only clients that negotiated permessage-deflate', () => {
    expect([backlog.add(fake().client), backlog.add(fake(false).client)]).toEqual([true, false]);
  });

  it('a rate-limited client inflates one message at a time at the defaults, the next when it is released', () => {
    const { client, inflated, frame } = fake();
    backlog.add(client);
    client.rateLimited = true;
    frame('a');
    client.heldBytes = 1000;
    frame('b');
    expect(inflated).toEqual(['a']);
    client.heldBytes = 0;
    backlog.wake(client);
    expect(inflated).toEqual(['a', 'b']);
  });

  it('with a small max_message_size, inflates until the next message could pass 1 MiB', () => {
    backlog.configure(64 * 1024, 4 * MiB);
    const { client, inflated, frame } = fake();
    backlog.add(client);
    client.rateLimited = true;
    client.heldBytes = MiB - 64 * 1024;
    frame('fits');
    client.heldBytes = MiB - 64 * 1024 + 1;
    frame('waits');
    expect(inflated).toEqual(['fits']);
  });

  it('discards what waits once the socket is gone and the bound is reached', () => {
    const { client, inflated, discarded, frame, socket } = fake();
    backlog.add(client);
    client.rateLimited = true;
    client.heldBytes = 1000;
    frame('late');
    socket.destroyed = true;
    backlog.wake(client);
    expect([inflated, discarded.length]).toEqual([[], 1]);
  });

  it('with the host paused, waits once one message went to the host, or while the event queue is full', () => {
    const { client, inflated, frame } = fake();
    backlog.add(client);
    backlog.setHostPaused(true, [client]);
    queueFull = true;
    frame('queue full');
    expect(inflated).toEqual([]);
    queueFull = false;
    backlog.handedToPausedHost(client, 10);
    backlog.setHostPaused(false, [client]);
    expect([inflated, client.pausedBytes]).toEqual([['queue full'], 0]);
  });

  it('reads a rate-limited client ahead up to the bound, and all of them up to max_inbound_total', () => {
    backlog.configure(MiB, 1.5 * MiB);
    const one = fake();
    const two = fake();
    for (const { client } of [one, two]) {
      client.rateLimited = true;
      backlog.rateLimited(client);
    }
    expect([one.socket.paused, two.socket.paused]).toEqual([false, false]);
    backlog.afterRead(one.client, MiB);
    expect(one.socket.paused, 'one is at its own bound').toBe(true);
    backlog.afterRead(two.client, MiB / 2);
    expect(two.socket.paused, 'together they reached max_inbound_total').toBe(true);
    backlog.forget(one.client);
    backlog.afterRead(two.client, 0);
    expect(two.socket.paused, 'room again once one left').toBe(false);
  });

  it('reads a rate-limited client ahead no further once 4096 messages are held, however small', () => {
    const { client, socket } = fake(false);
    client.rateLimited = true;
    client.held = Array.from({ length: 4095 }, () => ({ data: Buffer.from('f1'), isBinary: false }));
    backlog.rateLimited(client);
    expect(socket.paused).toBe(false);
    client.held.push({ data: Buffer.from('f2'), isBinary: false });
    backlog.afterRead(client, 13);
    expect(socket.paused).toBe(true);
  });
});
