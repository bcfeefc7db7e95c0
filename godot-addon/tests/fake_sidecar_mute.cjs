// Defect 12: a sidecar that hangs: never answers, never reads its stdin (so
// EOF does not end it). start() must still give up within startup_timeout_ms.
const { endAfter } = require('./fake_sidecar_kit.cjs');
endAfter(20000);
