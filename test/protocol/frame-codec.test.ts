/** Framing: split, partial, concatenated and impossible frames. */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MAX_FRAME_LENGTH } from '../../protocol/constants.js';
import { encodeFrame, FrameDecoder, FrameLengthError } from '../../protocol/frame-codec.js';
import { unpackValue } from '../../protocol/msgpack.js';

const decodeAll = (frames: Buffer[]): unknown[] => frames.map((f) => unpackValue(f));

describe('FrameDecoder', () => {
  it('decodes several frames concatenated in one chunk', () => {
    const chunk = Buffer.concat([encodeFrame([3, 1, 'a']), encodeFrame([2]), encodeFrame([14, 7])]);
    expect(decodeAll(new FrameDecoder().push(chunk))).toEqual([[3, 1, 'a'], [2], [14, 7]]);
  });

  it('waits for the rest of a frame split inside its length prefix and its body', () => {
    const frame = encodeFrame([3, 1, 'hello']);
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, 2))).toEqual([]);
    expect(decoder.push(frame.subarray(2, 7))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(7);
    expect(decodeAll(decoder.push(frame.subarray(7)))).toEqual([[3, 1, 'hello']]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes any split of any sequence of frames', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 63 }), fc.string(), fc.uint8Array()), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (values, cuts) => {
        const stream = Buffer.concat(values.map((v) => encodeFrame(v)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder();
        const out: unknown[] = [];
        let last = 0;
        for (const point of [...points, stream.length]) {
          out.push(...decodeAll(decoder.push(stream.subarray(last, point))));
          last = point;
        }
        expect(out).toEqual(values.map(([op, s, b]) => [op, s, Buffer.from(b)]));
      }),
    );
  });

  it('collects a large frame arriving in many small chunks without re-copying it per chunk', () => {
    const frame = encodeFrame([4, 1, Buffer.alloc(8 * 1024 * 1024, 7)]);
    const decoder = new FrameDecoder();
    const concat = vi.spyOn(Buffer, 'concat');
    let frames: Buffer[] = [];
    for (let i = 0; i < frame.length; i += 4096) frames = frames.concat(decoder.push(frame.subarray(i, i + 4096)));
    const copies = concat.mock.calls.length;
    concat.mockRestore();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(frame.subarray(4))).toBe(true);
    // One copy once the prefix is known and one when the frame completes, not one per 4 KiB chunk.
    expect(copies).toBeLessThanOrEqual(2);
  });

  it('rejects a zero length and a length above the limit as impossible', () => {
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0]))).toThrow(FrameLengthError);
    const oversize = Buffer.alloc(4);
    oversize.writeUInt32LE(MAX_FRAME_LENGTH + 1);
    expect(() => new FrameDecoder().push(oversize)).toThrow(/impossible frame length 268435457/);
  });

  it('honours a smaller limit and validates it', () => {
    const decoder = new FrameDecoder(16);
    expect(() => decoder.push(encodeFrame([3, 1, 'x'.repeat(40)]))).toThrow(FrameLengthError);
    expect(() => new FrameDecoder(0)).toThrow(TypeError);
  });

  it('returns the complete frames before an impossible prefix in the same chunk, then stays broken', () => {
    const decoder = new FrameDecoder();
    const bad = Buffer.alloc(4);
    bad.writeUInt32LE(0xffff_fff0);
    const frames = decoder.push(Buffer.concat([encodeFrame([14, 1]), encodeFrame([14, 2]), bad]));
    expect(decodeAll(frames)).toEqual([[14, 1], [14, 2]]);
    expect(decoder.failure).toBeInstanceOf(FrameLengthError);
    expect(decoder.failure?.length).toBe(0xffff_fff0);
    expect(() => decoder.push(encodeFrame([14, 3]))).toThrow(FrameLengthError);
  });
});
