/**
 * An independent, strict reading of MessagePack used to check the bytes our
 * encoder produces: it accepts only the types PROTOCOL.md allows (no
 * extension family at all) and insists on the smallest header for each value.
 */
export function assertPlainMinimal(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at byte ${at}`);
  };
  const need = (n: number): void => {
    if (at + n > bytes.length) fail(`truncated: need ${n} more bytes`);
  };
  const value = (): void => {
    need(1);
    const b = bytes[at++]!;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if (b >= 0x80 && b <= 0x8f) return entries(b & 0x0f, 2);
    if (b >= 0x90 && b <= 0x9f) return entries(b & 0x0f, 1);
    if (b >= 0xa0 && b <= 0xbf) return skip(b & 0x1f);
    switch (b) {
      case 0xcc: need(1); if (bytes[at]! < 0x80) fail('uint8 for a fixint value'); at += 1; return;
      case 0xcd: need(2); if (view.getUint16(at) <= 0xff) fail('uint16 for a smaller value'); at += 2; return;
      case 0xce: need(4); if (view.getUint32(at) <= 0xffff) fail('uint32 for a smaller value'); at += 4; return;
      case 0xd0: need(1); if (view.getInt8(at) >= -32) fail('int8 for a fixint value'); at += 1; return;
      case 0xd1: need(2); if (view.getInt16(at) >= -128) fail('int16 for a smaller value'); at += 2; return;
      case 0xd2: need(4); if (view.getInt32(at) >= -32768) fail('int32 for a smaller value'); at += 4; return;
      case 0xcf: case 0xd3: need(8); at += 8; return;
      case 0xca: need(4); at += 4; return;
      case 0xcb: need(8); at += 8; return;
      case 0xd9: need(1); { const n = bytes[at]!; at += 1; if (n < 32) fail('str8 for a fixstr'); return skip(n); }
      case 0xda: need(2); { const n = view.getUint16(at); at += 2; if (n < 256) fail('str16 for a str8'); return skip(n); }
      case 0xdb: need(4); { const n = view.getUint32(at); at += 4; if (n < 65536) fail('str32 for a str16'); return skip(n); }
      case 0xc4: need(1); { const n = bytes[at]!; at += 1; return skip(n); }
      case 0xc5: need(2); { const n = view.getUint16(at); at += 2; if (n < 256) fail('bin16 for a bin8'); return skip(n); }
      case 0xc6: need(4); { const n = view.getUint32(at); at += 4; if (n < 65536) fail('bin32 for a bin16'); return skip(n); }
      case 0xdc: need(2); { const n = view.getUint16(at); at += 2; if (n < 16) fail('array16 for a fixarray'); return entries(n, 1); }
      case 0xdd: need(4); { const n = view.getUint32(at); at += 4; if (n < 65536) fail('array32 for an array16'); return entries(n, 1); }
      case 0xde: need(2); { const n = view.getUint16(at); at += 2; if (n < 16) fail('map16 for a fixmap'); return entries(n, 2); }
      case 0xdf: need(4); { const n = view.getUint32(at); at += 4; if (n < 65536) fail('map32 for a map16'); return entries(n, 2); }
      default:
        at -= 1;
        return fail(`type byte 0x${b.toString(16)} is not allowed on the wire (extensions and reserved bytes are forbidden)`);
    }
  };
  const skip = (n: number): void => {
    need(n);
    at += n;
  };
  const entries = (n: number, perEntry: number): void => {
    for (let i = 0; i < n * perEntry; i++) value();
  };
  value();
  if (at !== bytes.length) fail(`${bytes.length - at} trailing bytes after the value`);
}
