// A sidecar stand-in for test_node.gd: it answers the handshake at once, reports clients 1, 2, 5, 300
// (info {}) and 4 (info {address: "127.0.0.1"}) and connection requests 1 and 2, appends every byte it
// receives to the file named by FAKE_SIDECAR_RECORD, acknowledges it (stdin credit), and answers stop
// or shutdown by exiting (after stopped, for stop).
// FAKE_SIDECAR_HELLO="<protocol>,<version>" changes its hello; FAKE_SIDECAR_START_FAILED=<code> makes
// it answer start_failed instead of listening.
const fs = require('node:fs');

const str = (s) => {
  const bytes = Buffer.from(s, 'utf8');
  return [0xa0 | bytes.length, ...bytes]; // fixstr: every string here is under 32 bytes
};
const uint = (n) => (n < 0x80 ? [n] : n < 0x100 ? [0xcc, n] : [0xcd, n >> 8, n & 0xff]);
const u32 = (n) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const frame = (items) => {
  const body = Buffer.from(items);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(body.length, 0);
  return Buffer.concat([prefix, body]);
};

const [protocol, version] = (process.env.FAKE_SIDECAR_HELLO || '1,0.1.0').split(',');
const out = [frame([0x94, 64, ...uint(Number(protocol)), ...str(version), 0x90])];
if (process.env.FAKE_SIDECAR_START_FAILED) {
  out.push(frame([0x93, 66, ...str(process.env.FAKE_SIDECAR_START_FAILED), ...str('simulated failure')]));
} else {
  out.push(frame([0x94, 65, ...uint(8080), ...str('0.0.0.0'), 0xc2]));
  for (const id of [1, 2, 5, 300]) out.push(frame([0x93, 69, ...uint(id), 0x80]));
  out.push(frame([0x93, 69, 4, 0x81, ...str('address'), ...str('127.0.0.1')]));
  for (const id of [1, 2]) out.push(frame([0x93, 68, id, 0x80]));
}
process.stdout.write(Buffer.concat(out));

const record = process.env.FAKE_SIDECAR_RECORD;
let pending = Buffer.alloc(0);
// With --stdin-credit (the addon always passes it), every read is acknowledged with
// consumed [79, total], or the addon stops writing after its first window.
const credit = process.argv.includes('--stdin-credit');
let consumed = 0;
process.stdin.on('data', (chunk) => {
  if (record) fs.appendFileSync(record, chunk);
  consumed += chunk.length;
  if (credit) process.stdout.write(frame([0x92, 79, ...(consumed < 0x10000 ? uint(consumed) : [0xce, ...u32(consumed)])]));
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
    const body = pending.subarray(4, 4 + pending.readUInt32LE(0));
    pending = pending.subarray(4 + body.length);
    if (body.length === 2 && body[0] === 0x91 && body[1] === 2) {
      process.stdout.write(frame([0x91, 67]), () => process.exit(0));
    }
    if (body.length === 2 && body[0] === 0x91 && body[1] === 18) process.exit(0);
  }
});
process.stdin.on('end', () => process.exit(0));
