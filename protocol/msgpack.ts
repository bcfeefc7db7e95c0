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

/** Encodes one value as plain MessagePack. The result may share memory with later calls' results only by position, never by content. */
export function packValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes exactly one MessagePack value; throws on truncated or trailing bytes. */
export function unpackValue(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}
