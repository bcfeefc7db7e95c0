/**
 * The one msgpackr configuration both TypeScript sides use. A bare `Packr`
 * turns on msgpackr's record extension; the wire allows no extension at all
 * (PROTOCOL.md, "Values on the wire"), so every extension-producing feature is
 * switched off here and the fixture tests prove the bytes stay plain.
 */
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
});

const unpackr = new Unpackr({
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  moreTypes: false,
  mapsAsObjects: true,
  int64AsType: 'number',
});

/**
 * Encodes one value as plain MessagePack. The result may share memory with later calls' results
 * only by position, never by content. Integers past 32 bits (cluster client ids, big tokens) are
 * written as int64, never as the float64 msgpackr would write for a number.
 */
export function packValue(value: unknown): Buffer {
  return packr.pack(widenLargeIntegers(value));
}

/**
 * `value` with every safe integer outside the 32-bit ranges turned into a BigInt, which msgpackr
 * writes as int64; the value itself (no copy) when there is none.
 */
function widenLargeIntegers(value: unknown): unknown {
  if (typeof value === 'number') {
    return (value > 0xffffffff || value < -0x80000000) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const widened = widenLargeIntegers(item);
      if (widened !== item) (copy ??= value.slice())[i] = widened;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const widened = widenLargeIntegers(item);
    if (widened !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = widened;
  }
  return copy ?? value;
}

/** Decodes exactly one MessagePack value; throws on truncated or trailing bytes. */
export function unpackValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}
