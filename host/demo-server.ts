/**
 * The example server of the main job: the sidecar (the platform binary when it
 * is built) driven by the TypeScript host as a small echo and chat server, the
 * same behaviour as the Godot examples, behind a front port that also answers
 * a browser with a chat page (demo-front.ts). When the GODOT environment
 * variable names a Godot 4.4+ executable, the addon's own Quick Start scene
 * runs headless instead (it listens on 8080, as the seed's Quick Start does).
 * `npm run demo` (packaging/demo.ts) builds what this runs, then runs it.
 *
 *   tsx host/demo-server.ts [--port 8080] [--host 0.0.0.0] [--seconds N]
 *
 * Text "/join ROOM", "/leave ROOM" and "/say ROOM TEXT" use rooms; "/all TEXT"
 * broadcasts; any other text is echoed as "Echo: TEXT"; binary is echoed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startDemoFront } from './demo-front.js';
import { SidecarHost } from './sidecar-host.js';
import { REPO_ROOT, resolveSidecarCommand } from './sidecar-locator.js';

export interface DemoOptions {
  /** Public port; 0 picks a free one. */
  port: number;
  /** Address to bind. */
  host: string;
  /** Godot executable to run the Quick Start in instead of the TypeScript host; default none. */
  godot?: string;
}

/** A running demo; `stop` ends it and everything it started, and frees the port. */
export interface RunningDemo {
  stop(): Promise<void>;
  /** Resolves when the demo ended on its own (the sidecar or Godot exited), with an exit code. */
  ended: Promise<number>;
}

/** Starts the demo; resolves once it serves, after printing where to connect. */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  return options.godot ? runGodotQuickStart(options.godot) : runTypeScriptHost(options);
}

/**
 * Stops `demo` on SIGINT or SIGTERM (npm forwards both to its script) and
 * exits, with `seconds` > 0 also after that many seconds; exits 1 when the
 * demo ends on its own.
 */
export function stopOnSignals(demo: RunningDemo, seconds = 0): void {
  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`stopping (${why})`);
    // Whatever happens, never outlive the 1 s a stop may take.
    setTimeout(() => process.exit(0), 900).unref();
    void demo.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (seconds > 0) setTimeout(() => stop(`--seconds ${seconds}`), seconds * 1000).unref();
  void demo.ended.then((code) => {
    if (!stopping) process.exit(code);
  });
}

/** The addon's Quick Start scene, headless, in the given engine. */
function runGodotQuickStart(godot: string): Promise<RunningDemo> {
  const project = join(REPO_ROOT, 'godot-addon');
  execFileSync('bash', [join(project, 'write-class-cache.sh')], { stdio: 'inherit' });
  console.log(`Running the Godot Quick Start (${godot} --headless --path ${project}); connect with: npx wscat -c ws://127.0.0.1:8080`);
  const child = spawn(godot, ['--headless', '--path', project], { stdio: 'inherit' });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  return Promise.resolve({
    ended: exited,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  });
}

async function runTypeScriptHost(options: DemoOptions): Promise<RunningDemo> {
  const command = resolveSidecarCommand();
  const host = await SidecarHost.launch({ command });
  host.on('log', (level, line) => {
    // Its loopback address is not one to connect to: the front port below is.
    if (!line.startsWith('listening on')) (level === 'error' ? console.error : console.log)(`[sidecar ${level}] ${line}`);
  });
  let stopping = false;
  const ended = new Promise<number>((resolve) =>
    host.on('exit', (code) => {
      if (stopping) return;
      console.error(`the sidecar exited with code ${code}`);
      resolve(1);
    }),
  );
  const fail = async (what: string, error: Error): Promise<never> => {
    await host.close();
    throw new Error(`${what}: ${error.message}`);
  };
  // The sidecar takes WebSocket clients on loopback only; the front port faces the network.
  const sidecar = await host.start({ port: 0, host: '127.0.0.1' }).catch((error: Error) => fail('the sidecar could not listen', error));
  const front = await startDemoFront({ port: options.port, host: options.host, sidecarPort: sidecar.port }).catch((error: Error) =>
    fail(`cannot listen on ${options.host}:${options.port}`, error),
  );
  const shown = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  console.log(`WebSocket server started on port ${front.port} (sidecar: ${command.kind} ${command.file}, version ${host.sidecarVersion})`);
  console.log(`Chat in a browser: http://${shown}:${front.port}/`);
  console.log(`or from a terminal: npx wscat -c ws://${shown}:${front.port}`);
  console.log('Try: hello | /join lobby | /say lobby hi all | /all hello everyone | /leave lobby');
  console.log('Ctrl+C stops it.');

  host.on('connected', (id, info) => {
    console.log(`Client connected: ${id} from ${front.clientAddress(info.port) ?? `${info.address}:${info.port}`}`);
    host.sendText(id, 'Welcome to the server!');
  });
  host.on('disconnected', (id, code, reason) => console.log(`Client disconnected: ${id} with code: ${code}${reason ? ` (${reason})` : ''}`));
  host.on('binary', (id, data) => host.sendBinary(id, data));
  host.on('text', (id, text) => answer(host, id, text));

  return {
    ended,
    stop: async () => {
      stopping = true;
      await front.close();
      await host.close();
    },
  };
}

/** The chat: rooms, broadcast, and echo for anything else. */
function answer(host: SidecarHost, id: number, text: string): void {
  const [verb, room = '', ...rest] = text.split(' ');
  if (verb === '/join' && room) {
    host.joinRoom(id, room);
    host.roomText(room, `client ${id} joined ${room}`);
  } else if (verb === '/leave' && room) {
    host.leaveRoom(id, room);
    host.sendText(id, `left ${room}`);
  } else if (verb === '/say' && room) {
    host.roomText(room, `[${room}] ${id}: ${rest.join(' ')}`);
  } else if (verb === '/all') {
    host.broadcastText(`${id}: ${text.slice(5)}`);
  } else {
    host.sendText(id, `Echo: ${text}`);
  }
}

/** Parses `--port`, `--host` and `--seconds` (PORT in the environment sets the default port). */
export function demoArguments(args: string[]): DemoOptions & { seconds: number } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: '0.0.0.0' },
      seconds: { type: 'string', default: '0' },
    },
  });
  const port = Number(values.port);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be 0-65535, got ${values.port}`);
  if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError(`--seconds must be a number of seconds, got ${values.seconds}`);
  return { port, host: values.host, seconds, ...(process.env.GODOT ? { godot: process.env.GODOT } : {}) };
}

if (process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const options = demoArguments(process.argv.slice(2));
  try {
    stopOnSignals(await runDemo(options), options.seconds);
  } catch (error) {
    console.error(`Failed to start server: ${(error as Error).message}`);
    process.exit(1);
  }
}
