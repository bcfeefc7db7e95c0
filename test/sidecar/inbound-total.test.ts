/** The global bound on unfinished incoming messages (sidecar/inbound-total.ts), on fake clients. */
import { WebSocket } from 'ws';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AnyEvent } from '../../protocol/messages.js';
import { createClient, type Client } from '../../sidecar/client.js';
import { InboundTotal } from '../../sidecar/inbound-total.js';

/** A client whose ws receiver declares `unfinished` bytes, and whose closes are recorded. */
function fakeClient(id: number): Client & { unfinished(bytes: number): void; closedWith(): number | undefined } {
  const receiver = { _totalPayloadLength: 0, _messageLength: 0 };
  let closedWith: number | undefined;
  const ws = {
    readyState: WebSocket.OPEN,
    _receiver: receiver,
    close: (code: number) => (closedWith = code),
    pause: () => {},
    terminate: () => {},
    once: () => {},
  } as unknown as WebSocket;
  return Object.assign(createClient(id, ws, 0), {
    unfinished: (bytes: number) => (receiver._totalPayloadLength = bytes),
    closedWith: () => closedWith,
  });
}

let events: AnyEvent[];
let inbound: InboundTotal;

beforeEach(() => {
  events = [];
  inbound = new InboundTotal((event) => events.push(event));
  inbound.limit = 1000;
});

describe('InboundTotal', () => {
  it('sums what every client holds unfinished and closes the one whose data crosses the bound, 1008', () => {
    const [a, b, c] = [fakeClient(1), fakeClient(2), fakeClient(3)];
    a.unfinished(600);
    inbound.measure(a);
    b.unfinished(300);
    inbound.measure(b);
    expect([inbound.total, events]).toEqual([900, []]);
    c.unfinished(200);
    inbound.measure(c);
    expect([a.closedWith(), b.closedWith(), c.closedWith()]).toEqual([undefined, undefined, 1008]);
    expect(events.map((event) => [event[1], event[3]])).toEqual([['inbound_overflow', 3]]);
  });

  it('frees a finished message and a client that left', () => {
    const [a, b] = [fakeClient(1), fakeClient(2)];
    a.unfinished(900);
    inbound.measure(a);
    a.unfinished(0);
    inbound.settle(a);
    b.unfinished(900);
    inbound.measure(b);
    inbound.forget(b);
    expect([inbound.total, events]).toEqual([0, []]);
  });
});
