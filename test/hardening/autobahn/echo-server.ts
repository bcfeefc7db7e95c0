/**
 * The echo server Autobahn|Testsuite's fuzzingclient runs against: the real
 * sidecar, driven by the TypeScript host, echoing every text and binary
 * message back to its sender. Prints `listening <port>` and runs until stdin
 * closes or a signal arrives.
 *
 *   npx tsx test/hardening/autobahn/echo-server.ts [port]
 */
import { SidecarHost } from '../../../host/sidecar-host.js';

const port = Number(process.argv[2] ?? '9001');
const host = await SidecarHost.launch();
host.on('text', (id, text) => host.sendText(id, text));
host.on('binary', (id, data) => host.sendBinary(id, data));
host.on('log', (level, line) => {
  if (level === 'error') process.stderr.write(`sidecar ${level}: ${line}\n`);
});
const listening = await host.start({
  port,
  host: '127.0.0.1',
  permessage_deflate: true,
  heartbeat_interval_ms: 0,
  // Cases 9.x send messages up to 16 MiB and expect them echoed.
  max_message_size: 64 * 1024 * 1024,
  max_outbound_buffer: 256 * 1024 * 1024,
});
process.stdout.write(`listening ${listening.port}\n`);
const quit = (): void => void host.close().then(() => process.exit(0));
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
process.stdin.on('end', quit);
process.stdin.resume();
