/**
 * The sidecar driven by the TypeScript host (host/sidecar-host.ts), doing what every bench server
 * does (bench/README.md, "Server protocol"): echo, broadcast on request, report connection counts.
 * startup_us covers launching the sidecar and start() until `listening`, as the addon's start() does.
 */
import { SidecarHost } from '../../host/sidecar-host.js';
import { nodeCommand } from '../../host/sidecar-locator.js';

const t0 = process.hrtime.bigint();
// BENCH_SIDECAR_NODE_ARGS: extra node flags for the sidecar, e.g. "--cpu-prof --cpu-prof-dir=bench/results/raw/prof".
// BENCH_SIDECAR_BUNDLE: run another sidecar bundle (the runner's "sidecar-before" target, for A/B runs).
const bundle = process.env.BENCH_SIDECAR_BUNDLE;
const command = bundle ? { file: process.execPath, args: [bundle], kind: 'node' as const } : nodeCommand();
const extraArgs = (process.env.BENCH_SIDECAR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const host = await SidecarHost.launch({ command: { ...command, args: [...extraArgs, ...command.args] } });
const listening = await host.start({ port: 0, host: '127.0.0.1', heartbeat_interval_ms: 30000 });
const startupUs = Number(process.hrtime.bigint() - t0) / 1000;

let clients = 0;
let waitFor = 0;
let waiter = 0;
host.on('connected', () => {
  clients++;
  if (waiter !== 0 && clients >= waitFor) {
    host.sendText(waiter, '!reached');
    waiter = 0;
  }
});
host.on('disconnected', () => clients--);
host.on('text', (id, text) => {
  if (text.charCodeAt(0) === 0x21 /* ! */) return control(id, text);
  host.sendText(id, text);
});
host.on('binary', (id, data) => host.sendBinary(id, data));

function control(id: number, text: string): void {
  const [cmd, a, b] = text.split(' ');
  if (cmd === '!bcast') {
    const payload = 'a'.repeat(Number(b));
    for (let i = 0; i < Number(a); i++) host.broadcastText(payload, id);
  } else if (cmd === '!wait') {
    waitFor = Number(a);
    if (clients >= waitFor) host.sendText(id, '!reached');
    else waiter = id;
  } else if (cmd === '!ftreset') {
    host.sendText(id, '!ok');
  } else if (cmd === '!ftget') {
    host.sendText(id, '!ft {}');
  }
}

process.stdout.write(`READY port=${listening.port} startup_us=${startupUs.toFixed(0)} rss_pids=${host.child.pid} host_pid=${process.pid}\n`);
const quit = (): void => {
  void host.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', quit);
process.stdin.on('end', quit);
process.stdin.resume();
