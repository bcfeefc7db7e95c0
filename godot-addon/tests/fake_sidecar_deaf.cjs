// Defect 6: a sidecar that says hello, listens, then never reads its stdin:
// once the 64 KiB pipe is full, every write of the game blocks.
const { hello, listening, endAfter } = require('./fake_sidecar_kit.cjs');
process.stdout.write(Buffer.concat([hello(), listening()]));
endAfter(20000);
