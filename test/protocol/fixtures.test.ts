/** The golden fixtures: on disk as the generator makes them, decodable, re-encodable byte for byte, extension-free. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, Event, LENGTH_PREFIX_BYTES } from '../../protocol/constants.js';
import { encodeFrame, FrameDecoder } from '../../protocol/frame-codec.js';
import { FIXTURES, toJsonValue } from '../../protocol/fixtures.js';
import { unpackValue } from '../../protocol/msgpack.js';
import { assertPlainMinimal } from '../support/msgpack-walker.js';

const dir = join(__dirname, '..', '..', 'protocol', 'fixtures');

function fromJsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === '$bin') return Buffer.from(entries[0]![1] as string, 'hex');
    return Object.fromEntries(entries.map(([k, v]) => [k, fromJsonValue(v)]));
  }
  return value;
}

describe('golden fixtures', () => {
  it('cover every command and every event exactly once', () => {
    const ops = FIXTURES.map((f) => f.value[0]).sort((a, b) => a - b);
    expect(ops).toEqual([...Object.values(Command), ...Object.values(Event)].sort((a, b) => a - b));
  });

  it('index file matches the generator (run "npm run fixtures" after changing protocol/fixtures.ts)', () => {
    const index = JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8'));
    expect(index).toEqual(FIXTURES.map((f) => ({ name: f.name, direction: f.direction, value: toJsonValue(f.value) })));
  });

  for (const fixture of FIXTURES) {
    describe(fixture.name, () => {
      const bytes = readFileSync(join(dir, `${fixture.name}.bin`));

      it('is on disk exactly as the encoder writes it', () => {
        expect(bytes.equals(encodeFrame(fixture.value))).toBe(true);
      });

      it('is one frame whose body is plain, minimal MessagePack', () => {
        const frames = new FrameDecoder().push(bytes);
        expect(frames).toHaveLength(1);
        expect(frames[0]!.length).toBe(bytes.length - LENGTH_PREFIX_BYTES);
        assertPlainMinimal(frames[0]!);
      });

      it('decodes to the value in fixtures.json', () => {
        const index = JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) as Array<{ name: string; value: unknown }>;
        const expected = fromJsonValue(index.find((f) => f.name === fixture.name)!.value);
        expect(unpackValue(bytes.subarray(LENGTH_PREFIX_BYTES))).toEqual(expected);
      });
    });
  }
});

describe('msgpack walker', () => {
  it('refuses extension types and non-minimal headers', () => {
    expect(() => assertPlainMinimal(Uint8Array.from([0xd4, 1, 1]))).toThrow(/not allowed/);
    expect(() => assertPlainMinimal(Uint8Array.from([0xcc, 5]))).toThrow(/fixint/);
    expect(() => assertPlainMinimal(Uint8Array.from([0xd9, 1, 0x61]))).toThrow(/fixstr/);
    expect(() => assertPlainMinimal(Uint8Array.from([0x92, 1]))).toThrow(/truncated/);
  });
});
