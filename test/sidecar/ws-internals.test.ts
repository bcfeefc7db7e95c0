/**
 * The `ws` internals the sidecar relies on (sidecar/ws-internals.ts) must be there in the `ws`
 * this project installs: each check fails with the ws version in its message, so an upgrade that
 * drops one is caught here rather than as a silent loss of fairness, corking or close codes.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsClient, WebSocketServer, type WebSocket } from 'ws';
import { frameUnmasked } from '../../sidecar/outbound.js';
import {
  deferReceiverEvents,
  gateInflation,
  isDiscardedBacklog,
  onCloseFrame,
  onSocketEnd,
  readSocketAhead,
  restoreReceiverEvents,
  retryInflation,
  socketOf,
  statusCodeOf,
  unfinishedInboundBytes,
  type InflateVerdict,
} from '../../sidecar/ws-internals.js';
import { until } from '../support/harness.js';
import { closePayload, frame, RawClient } from '../support/raw-client.js';

const WS_VERSION = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;
const servers: WebSocketServer[] = [];
const clients: RawClient[] = [];

const wsClients: WsClient[] = [];

afterEach(async () => {
  for (const client of wsClients.splice(0)) client.terminate();
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A ws server on a free port, a raw client connected to it, and the server side of that connection. */
async function connection(): Promise<{ ws: WebSocket; raw: RawClient; errors: Error[]; messages: string[] }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const errors: Error[] = [];
  const messages: string[] = [];
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const raw = await RawClient.open((server.address() as net.AddressInfo).port);
  clients.push(raw);
  const ws = await accepted;
  ws.on('error', (error) => errors.push(error));
  ws.on('message', (data) => messages.push(String(data)));
  return { ws, raw, errors, messages };
}

/** A permessage-deflate connection: a ws client that compresses everything, and the server side. */
async function deflateConnection(): Promise<{ ws: WebSocket; client: WsClient; errors: Error[]; messages: string[]; closed: Promise<number> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WsClient(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { perMessageDeflate: { threshold: 0 } });
  wsClients.push(client);
  const ws = await accepted;
  await new Promise((resolve) => client.once('open', resolve));
  const errors: Error[] = [];
  const messages: string[] = [];
  ws.on('error', (error) => errors.push(error));
  ws.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, client, errors, messages, closed };
}

describe(`ws ${WS_VERSION} internals`, () => {
  it('WebSocket#_socket is the connection\'s net.Socket', async () => {
    const { ws } = await connection();
    expect(socketOf(ws), `ws ${WS_VERSION} has no WebSocket#_socket: outbound.ts can no longer cork or share broadcast frames`).toBeInstanceOf(net.Socket);
  });

  it('a frame written to that socket stays in order with ws.send (no permessage-deflate: the sender does not queue)', async () => {
    const { ws, raw } = await connection();
    ws.send('one');
    socketOf(ws)!.write(frameUnmasked(Buffer.from('two'), false));
    ws.send('three');
    await until(() => raw.dataFrames().length === 3, 'three frames');
    expect(raw.dataFrames().map((f) => f.payload.toString()), `ws ${WS_VERSION} queued a send: shared broadcast frames would overtake it`).toEqual(['one', 'two', 'three']);
  });

  it('WebSocket#_receiver._allowSynchronousEvents defers and restores message events', async () => {
    const { ws, raw, messages } = await connection();
    const receiver = deferReceiverEvents(ws);
    expect(receiver, `ws ${WS_VERSION} has no _receiver._allowSynchronousEvents (or it is off): fair-share.ts no longer holds back a flooding client`).toBeDefined();
    expect(deferReceiverEvents(ws), 'a receiver already deferring is not deferred twice').toBeUndefined();
    // ws reads the socket before this listener runs: messages it emitted at once are counted here.
    const emittedByRead: number[] = [];
    socketOf(ws)!.on('data', () => emittedByRead.push(messages.length));
    raw.send(frame(1, 'a'), frame(1, 'b'));
    await until(() => messages.length === 2, 'both messages, deferred');
    restoreReceiverEvents(receiver!);
    raw.send(frame(1, 'c'), frame(1, 'd'));
    await until(() => messages.length === 4, 'both messages, at once');
    expect(emittedByRead[0], 'deferred: no message was emitted during the read').toBe(0);
    expect(emittedByRead.at(-1), 'restored: both were emitted during the read').toBe(4);
    expect(messages).toEqual(['a', 'b', 'c', 'd']);
  });

  it('WebSocket#_receiver._totalPayloadLength and _bufferedBytes count an unfinished message from its frame headers on', async () => {
    const { ws, raw, messages } = await connection();
    const first = frame(2, Buffer.alloc(3000, 1), { fin: false });
    raw.send(first, frame(0, Buffer.alloc(5000, 2), { fin: false }).subarray(0, 20));
    const missing = `ws ${WS_VERSION} has no _receiver._totalPayloadLength: inbound-total.ts no longer bounds unfinished messages`;
    // 8000 declared, and the 12 payload bytes of the second frame that arrived wait unparsed.
    await until(() => unfinishedInboundBytes(ws) === 8012, missing);
    raw.send(frame(0, Buffer.alloc(5000, 2), { fin: false }).subarray(20), frame(0, 'end'));
    await until(() => messages.length === 1, 'the finished message');
    expect(unfinishedInboundBytes(ws), 'nothing is unfinished once the message is').toBe(0);
  });

  it('Receiver#decompress can be gated: a frame waits compressed, goes on when retried, or is discarded', async () => {
    const { ws, client, errors, messages, closed } = await deflateConnection();
    let verdict: InflateVerdict = 'wait';
    expect(gateInflation(ws, () => verdict), `ws ${WS_VERSION} has no Receiver#decompress: paused-backlog.ts no longer bounds paused deflate clients`).toBe(true);
    client.send('one');
    client.send('two');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messages, 'a waiting frame is not inflated, nor anything behind it').toEqual([]);
    verdict = 'inflate';
    retryInflation(ws);
    await until(() => messages.length === 2, 'both messages once retried');
    expect(messages).toEqual(['one', 'two']);
    verdict = 'discard';
    client.send('three', () => client.terminate());
    expect(await closed, 'a discarded backlog ends the connection as dropped').toBe(1006);
    expect(messages).toEqual(['one', 'two']);
    expect(errors.map((error) => isDiscardedBacklog(error))).toEqual([true]);
  });

  it('the socket under a paused WebSocket can be read on while ws.isPaused stays true', async () => {
    const { ws, raw, messages } = await connection();
    ws.pause();
    raw.send(frame(1, 'held back'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(messages).toEqual([]);
    readSocketAhead(ws);
    await until(() => messages.length === 1, 'the message read ahead');
    expect(ws.isPaused).toBe(true);
  });

  it('errors from the receiver carry the close code under the status-code symbol', async () => {
    const { raw, errors } = await connection();
    raw.send(frame(1, Buffer.from([0xc3, 0x28]))); // not UTF-8
    await until(() => errors.length === 1, 'the receiver error');
    expect(statusCodeOf(errors[0]!), `ws ${WS_VERSION} no longer tags receiver errors with a status-code symbol: close-codes.ts falls back to guessing`).toBe(1007);
    expect(statusCodeOf(new Error('not from ws'))).toBeUndefined();
  });

  it('the receiver\'s conclude event reports a client\'s close frame while TCP stays open', async () => {
    const { ws, raw } = await connection();
    const seen: Array<[WebSocket, number, string, number]> = [];
    expect(onCloseFrame(ws, (socket, code, reason) => seen.push([socket, code, reason.toString(), socket.readyState])), `ws ${WS_VERSION} has no _receiver: close_timeout_ms no longer covers closes the client starts`).toBe(true);
    raw.send(frame(8, closePayload(1000, 'bye')));
    await until(() => seen.length === 1, 'the close frame');
    expect(seen[0], `ws ${WS_VERSION} no longer emits conclude on its receiver`).toEqual([ws, 1000, 'bye', ws.CLOSING]);
  });

  it('the socket\'s end event reports a client\'s half-close', async () => {
    const { ws, raw } = await connection();
    const ended: WebSocket[] = [];
    expect(onSocketEnd(ws, (socket) => ended.push(socket)), `ws ${WS_VERSION} has no WebSocket#_socket`).toBe(true);
    raw.socket.end();
    await until(() => ended.length === 1, 'the half-close');
    expect(ended).toEqual([ws]);
  });
});
