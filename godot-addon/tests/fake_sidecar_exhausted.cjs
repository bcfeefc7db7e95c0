// A sidecar stand-in for test_hardening_errors.gd (issue #12 seen from the game): a server short of
// file descriptors and memory. After the handshake it reports client 7, then the errors of issue #12
// in this order: client_closing (7), accept_failed (0), rejected_connection (0, a 503 while the host
// did not read), inbound_overflow (7) and client 7 gone with 1008. It answers get_stats with the
// fields it could not read as nil (rss, listed in unavailable), accept_errors 105 and paused true,
// and stop with stopped. Plain MessagePack only.
'use strict';
const { encode, frame, hello, listening, endAfter } = require('./fake_sidecar_kit.cjs');

endAfter(20000);

/** A msgpack map (fixmap, at most 15 pairs) of already encoded values, keyed by strings. */
function map(pairs) {
  return Buffer.concat([Buffer.from([0x80 | pairs.length]), ...pairs.flatMap(([key, value]) => [encode(key), value])]);
}
/** A frame whose array holds encoded parts. */
function rawFrame(parts) {
  const body = Buffer.concat([Buffer.from([0x90 | parts.length]), ...parts]);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
}
const NIL = Buffer.from([0xc0]);

process.stdout.write(Buffer.concat([hello(), listening(18998), rawFrame([encode(69), encode(7), map([])])]));
setTimeout(() => {
  process.stdout.write(Buffer.concat([
    frame([73, 'client_closing', 'client 7 is closing (close code 1008): nothing was sent', 7]),
    frame([73, 'accept_failed', 'out of file descriptors (EMFILE): 105 connections lost since the last report', 0]),
    frame([73, 'rejected_connection', 'upgrade refused with 503: the host is not reading', 0]),
    frame([73, 'inbound_overflow', 'unfinished messages passed max_inbound_total: client 7 closed with 1008', 7]),
    frame([72, 7, 1008, 'inbound overflow', true]),
  ]));
}, 200);

// The addon writes under stdin credit (PROTOCOL.md, "Stdin credit"): acknowledge every read.
const credit = process.argv.includes('--stdin-credit');
let consumed = 0;
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  consumed += chunk.length;
  if (credit) process.stdout.write(frame([79, consumed]));
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
    const body = pending.subarray(4, 4 + pending.readUInt32LE(0));
    pending = pending.subarray(4 + body.length);
    if (body[0] === 0x92 && body[1] === 15) {
      const stats = map([
        ['clients', encode(0)], ['rss', NIL], ['accept_errors', encode(105)], ['paused', encode(true)],
        ['unavailable', encode(['rss'])],
      ]);
      process.stdout.write(rawFrame([encode(75), encode(body[2]), stats]));
    } else if (body[0] === 0x91 && body[1] === 2) {
      process.stdout.write(frame([67]), () => process.exit(0));
    } else if (body[0] === 0x91 && body[1] === 18) {
      process.exit(0); // shutdown
    }
  }
});
process.stdin.on('end', () => process.exit(0));
