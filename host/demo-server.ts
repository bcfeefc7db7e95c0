/**
 * The example server of the main job: the sidecar (the platform binary when it
 * is built) driven by the TypeScript host as a small echo and chat server, the
 * same behaviour as the Godot examples. When the GODOT environment variable
 * names a Godot 4.4+ executable, the addon's own Quick Start scene runs
 * headless instead (it listens on 8080, as the seed's Quick Start does).
 *
 *   tsx host/demo-server.ts [--port 8080] [--host 0.0.0.0] [--seconds N]
 *
 * Text "/join ROOM", "/leave ROOM" and "/say ROOM TEXT" use rooms; "/all TEXT"
 * broadcasts; any other text is echoed as "Echo: TEXT"; binary is echoed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SidecarHost } from './sidecar-host.js';
import { REPO_ROOT, resolveSidecarCommand } from './sidecar-locator.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    host: { type: 'string', default: '0.0.0.0' },
    seconds: { type: 'string', default: '0' },
  },
});
const port = Number(values.port);
const seconds = Number(values.seconds);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`--port must be 0-65535, got ${values.port}`);

if (process.env.GODOT) {
  runGodotQuickStart(process.env.GODOT, seconds);
} else {
  await runTypeScriptHost();
}

/** The addon's Quick Start scene, headless, in the given engine. */
function runGodotQuickStart(godot: string, seconds: number): void {
  const project = join(REPO_ROOT, 'godot-addon');
  execFileSync('bash', [join(project, 'write-class-cache.sh')], { stdio: 'inherit' });
  console.log(`Running the Godot Quick Start (${godot} --headless --path ${project}); connect with: npx wscat -c ws://127.0.0.1:8080`);
  const child = spawn(godot, ['--headless', '--path', project], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
  const stop = (): void => void child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (seconds > 0) setTimeout(stop, seconds * 1000);
}

async function runTypeScriptHost(): Promise<void> {
  const command = resolveSidecarCommand();
  const host = await SidecarHost.launch({ command });
  host.on('log', (level, line) => (level === 'error' ? console.error : console.log)(`[sidecar ${level}] ${line}`));
  host.on('exit', (code) => {
    console.error(`the sidecar exited with code ${code}`);
    process.exit(1);
  });

  const listening = await host.start({ port: Number(values.port), host: values.host }).catch((error: Error) => {
    console.error(`Failed to start server: ${error.message}`);
    process.exit(1);
  });
  const shown = listening.host === '0.0.0.0' || listening.host === '::' ? '127.0.0.1' : listening.host;
  console.log(`WebSocket server started on port ${listening.port} (sidecar: ${command.kind} ${command.file}, version ${host.sidecarVersion})`);
  console.log(`Connect with a browser or: npx wscat -c ws://${shown}:${listening.port}`);
  console.log('Try: hello | /join lobby | /say lobby hi all | /all hello everyone | /leave lobby');

  host.on('connected', (id, info) => {
    console.log(`Client connected: ${id} from ${info.address}:${info.port}`);
    host.sendText(id, 'Welcome to the server!');
  });
  host.on('disconnected', (id, code, reason) => console.log(`Client disconnected: ${id} with code: ${code}${reason ? ` (${reason})` : ''}`));
  host.on('binary', (id, data) => host.sendBinary(id, data));
  host.on('text', (id, text) => {
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
  });

  const shutdown = async (): Promise<void> => {
    console.log('stopping');
    host.removeAllListeners('exit');
    await host.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  if (seconds > 0) setTimeout(() => void shutdown(), seconds * 1000);
}
