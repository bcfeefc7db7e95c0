// Shared by the hostile fake sidecars of test_hardening*.gd: just enough
// MessagePack (small ints, strings, booleans, short arrays) to write the
// length-prefixed events a real sidecar sends. Plain MessagePack only.
'use strict';

function encode(value) {
  if (typeof value === 'boolean') return Buffer.from([value ? 0xc3 : 0xc2]);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new TypeError(`unsupported number ${value}`);
    if (value < 0x80) return Buffer.from([value]);
    if (value < 0x100) return Buffer.from([0xcc, value]);
    return Buffer.from([0xcd, value >> 8, value & 0xff]);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > 0xff) throw new TypeError('string too long for this kit');
    const head = bytes.length < 32 ? Buffer.from([0xa0 | bytes.length]) : Buffer.from([0xd9, bytes.length]);
    return Buffer.concat([head, bytes]);
  }
  if (Array.isArray(value)) {
    if (value.length > 15) throw new TypeError('array too long for this kit');
    return Buffer.concat([Buffer.from([0x90 | value.length]), ...value.map(encode)]);
  }
  throw new TypeError(`unsupported value ${value}`);
}

/** One frame: 4-byte little-endian length, then the msgpack array. */
function frame(array) {
  const body = encode(array);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

const hello = () => frame([64, 1, '0.1.0', []]);
const listening = (port = 18999) => frame([65, port, '127.0.0.1', false]);

/** Every fake ends by itself, so a test that fails never leaves it behind. */
function endAfter(ms) {
  setTimeout(() => process.exit(0), ms);
}

module.exports = { encode, frame, hello, listening, endAfter };
