/** packValue: msgpackr's bytes, except that an array's own integers past 32 bits stay exact integers. */
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packValue } from '../../protocol/msgpack.js';

const exactly = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

describe('packValue', () => {
  it.each([
    [2 ** 32, 'cf0000000100000000'],
    [2n ** 53n + 1n, 'cf0020000000000001'],
    [2n ** 63n - 1n, 'cf7fffffffffffffff'],
    [2n ** 64n - 1n, 'cfffffffffffffffff'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [-(2n ** 63n), 'd38000000000000000'],
    [5n, '05'],
    [-(2n ** 31n), 'd280000000'],
  ])('writes the token %s as the smallest integer, never a float', (token, hex) => {
    const body = packValue([74, token]);
    expect(body.toString('hex')).toBe(`924a${hex}`);
    expect(BigInt(exactly.unpack(body)[1] as number | bigint)).toBe(BigInt(token));
  });

  it('writes the rest of such an array as msgpackr does', () => {
    const stats = { clients: 1, rss: 12.5, paused: false };
    expect(packValue([75, 2n ** 40n, stats]).subarray(11)).toEqual(packValue(stats));
    const wide = Array.from({ length: 20 }, (_, i) => (i === 19 ? 2 ** 33 : i));
    expect(exactly.unpack(packValue(wide))).toEqual([...wide.slice(0, 19).map(Number), 2n ** 33n]);
  });

  it('keeps float64 for integers no MessagePack integer holds, and writes nested ones past 32 bits as int64', () => {
    expect(packValue([74, 2 ** 70])[2]).toBe(0xcb);
    const nested = packValue([75, 1, { bytes_in: 2 ** 40 }]);
    expect(nested.includes(0xcb)).toBe(false);
    expect(exactly.unpack(nested)[2]).toEqual({ bytes_in: 2n ** 40n });
  });
});
