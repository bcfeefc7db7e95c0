import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../sidecar/cluster-wire.js';

const envelopes: Envelope[] = [
  { kind: 'room', origin: 3, room: 'lobby ✓', exclude: 2 ** 33 + 5, binary: false },
  { kind: 'broadcast', origin: 1, exclude: 0, binary: true },
  { kind: 'send', origin: 2_097_151, clientId: 2_097_151 * 2 ** 32 + (2 ** 32 - 1), binary: true },
  { kind: 'disconnect', origin: 9, clientId: 2 ** 32 + 1, code: 4001, reason: 'kicked' },
];

describe('cluster wire', () => {
  it('round-trips every envelope with its raw payload, unchanged', () => {
    const payload = Buffer.from([0, 255, 0xc1, 0xd4, 1, 2]);
    for (const envelope of envelopes) {
      const decoded = decodeEnvelope(encodeEnvelope(envelope, payload));
      expect(decoded?.envelope).toEqual(envelope);
      expect([...decoded!.payload]).toEqual([...payload]);
    }
  });

  it('keeps the payload as the tail of the published bytes, after a length-prefixed header', () => {
    const published = encodeEnvelope(envelopes[1]!, Buffer.from('hello'));
    expect(published.subarray(-5).toString()).toBe('hello');
    expect(published.readUInt16BE(0) + 2 + 5).toBe(published.length);
  });

  it('ignores what it did not write', () => {
    expect(decodeEnvelope(Buffer.from([0]))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from([0, 9, 1]))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from([0, 1, 0xc1]))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from([0, 3, 0x92, 0x63, 0x01]))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from([0, 4, 0x93, 0x03, 0x01, 0xa1]))).toBeUndefined();
  });
});
