/**
 * Sidecar entry point: stdin carries commands, stdout events, stderr logs
 * (protocol/PROTOCOL.md). The process lives exactly as long as its host: EOF
 * on stdin, a `shutdown` command, the end of the parent process, SIGTERM or
 * SIGINT close every client with 1001 and exit. With `--stdin-credit` every
 * read from stdin is acknowledged with a `consumed` event.
 */
import { CAPABILITIES, Event, PROTOCOL_VERSION, STDIN_CREDIT_ARG } from '../protocol/constants.js';
import { FrameDecoder, FrameLengthError } from '../protocol/frame-codec.js';
import { Cluster } from './cluster.js';
import { CommandDispatcher } from './command-dispatcher.js';
import { EventWriter } from './event-writer.js';
import { stderrLogger as log } from './log.js';
import { watchParent } from './parent-watch.js';
import { SidecarServer } from './sidecar-server.js';
import { StdinCredit } from './stdin-credit.js';
import { SIDECAR_VERSION } from './version.js';

/** Exit codes, for hosts that report them. */
const EXIT_OK = 0;
const EXIT_BROKEN_STREAM = 2;
const EXIT_CRASH = 70;

/** Stdin EOF must end the process within a second (PROTOCOL.md), shutdown included. */
const SHUTDOWN_DEADLINE_MS = 900;

let server: SidecarServer | undefined;
let cluster: Cluster | undefined;
const writer = new EventWriter(process.stdout, (backedUp) => server?.setPaused(backedUp));
const emit = writer.write.bind(writer);
// The cluster sees what the server reports (its life, its clients) on the way to the host.
server = new SidecarServer((event) => (cluster?.observe(event), emit(event)), log, writer.writeClientMessage.bind(writer), writer);
cluster = new Cluster(server, emit, log);
const dispatcher = new CommandDispatcher(server, emit, cluster, () => void exit(EXIT_OK, 'shutdown requested by the host'));
const decoder = new FrameDecoder();
// Credit is written at once, not with the turn's batch: the host waits for it, not for the commands' effects.
const credit = process.argv.includes(STDIN_CREDIT_ARG) ? new StdinCredit((event) => writer.writeNow(event)) : undefined;
let exiting = false;

emit([Event.HELLO, PROTOCOL_VERSION, SIDECAR_VERSION, [...CAPABILITIES]]);
const stopWatchingParent = watchParent(() => void exit(EXIT_OK, 'the process that started the sidecar ended'));

process.stdin.on('data', (chunk: Buffer) => {
  if (exiting) return;
  credit?.read(chunk.length);
  let frames: Buffer[] = [];
  try {
    frames = decoder.push(chunk);
  } catch (error) {
    if (!(error instanceof FrameLengthError)) throw error;
  }
  // Frames before an impossible prefix are executed and answered first (PROTOCOL.md, "Transport").
  for (const frame of frames) {
    if (exiting) break; // after `shutdown`: commands behind it are ignored
    dispatcher.dispatchFrame(frame);
  }
  if (decoder.failure !== undefined && !exiting) {
    log('error', `${decoder.failure.message}; exiting because the command stream cannot be trusted any more`);
    void exit(EXIT_BROKEN_STREAM);
  }
});
process.stdin.on('end', () => void exit(EXIT_OK, 'stdin closed: the host went away'));
process.stdin.on('error', (error) => void exit(EXIT_OK, `stdin failed (${error.message}): the host went away`));
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // EPIPE: the host closed our stdout; nobody is left to report to.
  void exit(EXIT_OK, `stdout failed (${error.code ?? error.message}): the host went away`);
});
// EPIPE on stderr: the host is gone (killed with SIGKILL, say). Without this listener every log
// line became an uncaughtException whose own log line failed again, a loop that burnt the CPU
// until the shutdown deadline. Nothing is logged here: there is nobody left to read it.
process.stderr.on('error', () => void exit(EXIT_OK));
process.on('SIGTERM', () => void exit(EXIT_OK, 'SIGTERM received'));
process.on('SIGINT', () => void exit(EXIT_OK, 'SIGINT received'));
process.on('uncaughtException', (error) => {
  log('error', `sidecar crashed: ${error.stack ?? error.message}. Please report this with the lines above.`);
  void exit(EXIT_CRASH);
});

async function exit(code: number, why?: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  stopWatchingParent();
  if (why !== undefined) log('info', `${why}; shutting down`);
  const deadline = setTimeout(() => process.exit(code), SHUTDOWN_DEADLINE_MS);
  try {
    await server?.shutdown(SHUTDOWN_DEADLINE_MS / 2);
    await cluster?.shutdown();
  } finally {
    writer.flush();
    clearTimeout(deadline);
    // Let stdout and stderr drain what they hold, but never past the deadline.
    process.stdout.write('', () => process.exit(code));
    setTimeout(() => process.exit(code), 100).unref();
  }
}
