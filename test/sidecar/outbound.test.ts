/** The pieces of sidecar/outbound.ts that need no socket: the shared frame and payload encoding (delivery is tested end to end in test/e2e/fanout.test.ts). */
import { describe, expect, it } from 'vitest';
import { frameUnmasked, Outbound, toPayload } from '../../sidecar/outbound.js';

describe('frameUnmasked', () => {
  it('frames every length class as RFC 6455 says', () => {
    expect([...frameUnmasked(Buffer.from('hi'), false)]).toEqual([0x81, 2, 0x68, 0x69]);
    expect([...frameUnmasked(new Uint8Array(126), true).subarray(0, 4)]).toEqual([0x82, 126, 0, 126]);
    expect([...frameUnmasked(new Uint8Array(65536), true).subarray(0, 10)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(frameUnmasked(new Uint8Array(65536), true).length).toBe(65546);
  });
});

describe('Outbound.sharedFrame', () => {
  it('shares a frame among two recipients or more, and never with permessage-deflate', () => {
    const outbound = new Outbound(() => {});
    const data = Buffer.from('hi');
    expect(outbound.sharedFrame(data, false, 1)).toBeUndefined();
    expect(outbound.sharedFrame(data, false, 2)).toEqual(frameUnmasked(data, false));
    outbound.permessageDeflate = true;
    expect(outbound.sharedFrame(data, false, 2)).toBeUndefined();
  });
});

describe('toPayload', () => {
  it('encodes text once as UTF-8 and passes bytes through as binary', () => {
    const bytes = Uint8Array.from([1, 2]);
    expect(toPayload('é')).toEqual([Buffer.from([0xc3, 0xa9]), false]);
    expect(toPayload(bytes)).toEqual([bytes, true]);
    expect(toPayload(bytes)[0]).toBe(bytes);
  });
});
