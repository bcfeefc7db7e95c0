// Preloaded (node -r) into a server process by bench/latency-stages.ts: records the monotonic
// time (CLOCK_MONOTONIC, shared by every process on the machine) of each chunk a socket or pipe
// delivers and of each write to one, and writes them to $STAGE_TRACE_DIR/<pid>.json at exit.
// A diagnostic only: it patches net.Socket, which no production code path does.
'use strict';
const net = require('node:net');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.STAGE_TRACE_DIR;
const events = [];
const kind = (socket) => (socket._handle && socket._handle.constructor.name === 'Pipe' ? 'pipe' : 'tcp');

const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (name, ...args) {
  if (name === 'data') events.push([`${kind(this)}.in`, Number(process.hrtime.bigint())]);
  return emit.call(this, name, ...args);
};
for (const method of ['_write', '_writev']) {
  const original = net.Socket.prototype[method];
  net.Socket.prototype[method] = function (...args) {
    // stderr carries log lines, not messages.
    if (this !== process.stderr) events.push([`${kind(this)}.out`, Number(process.hrtime.bigint())]);
    return original.apply(this, args);
  };
}
process.on('exit', () => {
  if (dir) writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(events));
});
