// Defect 6: a sidecar that says hello, listens, then closes its stdin: the
// game's next write meets a pipe without a reader (EPIPE, SIGPIPE).
const fs = require('node:fs');
const { hello, listening, endAfter } = require('./fake_sidecar_kit.cjs');
process.stdout.write(Buffer.concat([hello(), listening()]), () => fs.closeSync(0));
endAfter(20000);
