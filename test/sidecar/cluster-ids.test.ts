import { describe, expect, it } from 'vitest';
import { LOCAL_ID_BITS, MAX_NODE, NODE_BITS, idBase, nodeFromSequence, nodeOf } from '../../sidecar/cluster-ids.js';

describe('cluster ids', () => {
  it('puts the node number above 32 bits of local counter, below 2^53', () => {
    expect(LOCAL_ID_BITS + NODE_BITS).toBe(53);
    const highest = idBase(MAX_NODE) + (2 ** 32 - 1);
    expect(highest).toBeLessThan(2 ** 53);
    expect(Number.isSafeInteger(highest)).toBe(true);
    expect(nodeOf(highest)).toBe(MAX_NODE);
    expect(nodeOf(idBase(7) + 1)).toBe(7);
    expect(nodeOf(42)).toBe(0);
    expect(idBase(0)).toBe(0);
  });

  it('folds any Redis sequence number into 1 to MAX_NODE', () => {
    expect(nodeFromSequence(1)).toBe(1);
    expect(nodeFromSequence(MAX_NODE)).toBe(MAX_NODE);
    expect(nodeFromSequence(MAX_NODE + 1)).toBe(1);
    expect(() => nodeFromSequence(0)).toThrow(RangeError);
    expect(() => nodeFromSequence(1.5)).toThrow(RangeError);
  });
});
