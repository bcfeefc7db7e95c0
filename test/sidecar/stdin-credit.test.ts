import { describe, expect, it } from 'vitest';
import { Event } from '../../protocol/constants.js';
import type { AnyEvent } from '../../protocol/messages.js';
import { StdinCredit } from '../../sidecar/stdin-credit.js';

describe('StdinCredit', () => {
  it('answers every read with consumed and the running total', () => {
    const events: AnyEvent[] = [];
    const credit = new StdinCredit((event) => events.push(event));
    credit.read(10);
    credit.read(65536);
    credit.read(0);
    expect(events).toEqual([
      [Event.CONSUMED, 10],
      [Event.CONSUMED, 65546],
      [Event.CONSUMED, 65546],
    ]);
    expect(credit.consumed).toBe(65546);
  });

  it('refuses a byte count that is not a non-negative integer', () => {
    const credit = new StdinCredit(() => {});
    expect(() => credit.read(-1)).toThrow(new TypeError('bytes must be a non-negative integer'));
    expect(() => credit.read(1.5)).toThrow(TypeError);
  });
});
