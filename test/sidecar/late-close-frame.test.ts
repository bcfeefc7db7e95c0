/**
 * sidecar/late-close-frame.ts: the close frame a client sends after ws stopped reading is found in
 * whatever way the bytes are split, behind other frames of any length, and only a whole one counts.
 */
import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { watchForCloseFrame } from '../../sidecar/late-close-frame.js';
import { closePayload, frame } from '../support/raw-client.js';

/** Feeds `bytes` to a watcher in chunks of `chunkSize` and says how often it reported. */
function watch(bytes: Buffer, chunkSize: number): number {
  const socket = new PassThrough();
  let reported = 0;
  watchForCloseFrame(socket as unknown as Socket, () => reported++);
  for (let at = 0; at < bytes.length; at += chunkSize) socket.emit('data', bytes.subarray(at, at + chunkSize));
  return reported;
}

const CLOSE = frame(8, closePayload(1002, 'ok'));

describe('watchForCloseFrame', () => {
  it('reports a close frame alone, whole or one byte at a time', () => {
    expect(watch(CLOSE, CLOSE.length)).toBe(1);
    expect(watch(CLOSE, 1)).toBe(1);
  });

  it('finds it behind frames of every length form (7-bit, 16-bit and 64-bit lengths), however split', () => {
    const before = Buffer.concat([frame(1, 'hi'), frame(2, Buffer.alloc(300, 7)), frame(2, Buffer.alloc(70_000, 9)), frame(9, 'ping')]);
    const bytes = Buffer.concat([before, CLOSE]);
    for (const chunkSize of [1, 3, 13, 140, 4096, bytes.length]) expect(watch(bytes, chunkSize), `chunks of ${chunkSize}`).toBe(1);
  });

  it('does not report a close frame whose payload has not all arrived, nor a payload that looks like one', () => {
    expect(watch(CLOSE.subarray(0, CLOSE.length - 1), 4)).toBe(0);
    expect(watch(frame(2, Buffer.concat([CLOSE, CLOSE])), 5)).toBe(0);
  });

  it('reports once, even when more close frames follow', () => {
    expect(watch(Buffer.concat([CLOSE, CLOSE]), 7)).toBe(1);
  });
});
