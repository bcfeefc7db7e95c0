// Defect 15: a sidecar that writes 24 MB to stderr without one newline before
// its hello. The addon must neither rescan nor keep all of it.
const { hello, listening, endAfter } = require('./fake_sidecar_kit.cjs');
const chunk = Buffer.alloc(1024 * 1024, 0x78);
let left = 24;
function more() {
  while (left > 0) {
    left -= 1;
    if (!process.stderr.write(chunk)) return void process.stderr.once('drain', more);
  }
  process.stdout.write(Buffer.concat([hello(), listening()]));
}
more();
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
endAfter(30000);
