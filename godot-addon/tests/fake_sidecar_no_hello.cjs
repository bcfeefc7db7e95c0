// Defect 13: a sidecar that skips hello and claims to listen at once.
const { listening, endAfter } = require('./fake_sidecar_kit.cjs');
process.stdout.write(listening());
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
endAfter(20000);
