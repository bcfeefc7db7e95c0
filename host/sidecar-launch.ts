/**
 * Starting the sidecar as the Godot addon does: spawn it with piped stdio,
 * wait for its `hello`, check the protocol (and optionally sidecar) version.
 * Every way this can fail ends in one error that says why and shows the
 * sidecar's stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Event, LENGTH_PREFIX_BYTES, PROTOCOL_VERSION } from '../protocol/constants.js';
import { FrameDecoder } from '../protocol/frame-codec.js';
import { unpackValue } from '../protocol/msgpack.js';
import { resolveSidecarCommand, type SidecarCommand } from './sidecar-locator.js';

export interface LaunchOptions {
  /** Program and arguments to run; default: `resolveSidecarCommand()`. */
  command?: SidecarCommand;
  /** Environment of the child; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Time to wait for `hello`; default 10000 ms. */
  helloTimeoutMs?: number;
  /** Sidecar version the host insists on; default: any. */
  expectedSidecarVersion?: string;
}

/** What the sidecar announced in `hello`. */
export interface Hello {
  protocolVersion: number;
  sidecarVersion: string;
  capabilities: string[];
}

/** A sidecar that said hello, with whatever it wrote after it and its stderr so far. */
export interface Launched {
  child: ChildProcess;
  hello: Hello;
  /** Bytes that followed `hello` in the same reads: the start of the event stream. */
  afterHello: Buffer;
  stderr: string;
}

/** Spawns the sidecar and waits for its `hello`. Rejects with a clear reason if it never comes. */
export function launchSidecar(options: LaunchOptions = {}): Promise<Launched> {
  const command = options.command ?? resolveSidecarCommand();
  const child = spawn(command.file, command.args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
  const timeoutMs = options.helloTimeoutMs ?? 10_000;
  let stderr = '';
  const onStderr = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  };
  child.stderr!.on('data', onStderr);
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const fail = (why: string): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${why} (sidecar: ${command.file} ${command.args.join(' ')})${stderr ? `; its stderr said: ${stderr.trim()}` : ''}`));
    };
    const timer = setTimeout(() => fail(`the sidecar sent no hello within ${timeoutMs} ms`), timeoutMs);
    const onError = (error: Error): void => fail(`the sidecar could not be started: ${error.message}`);
    const onExit = (code: number | null): void => fail(`the sidecar exited with code ${code} before its hello`);
    let received: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      received.push(chunk);
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        fail(`the sidecar's first bytes are not a frame: ${(error as Error).message}`);
        return;
      }
      if (frames.length === 0) return;
      const hello = unpackValue(frames[0]!) as unknown[];
      if (!Array.isArray(hello) || hello[0] !== Event.HELLO) {
        fail(`the sidecar's first frame is not hello: ${JSON.stringify(hello)}`);
        return;
      }
      const [, protocolVersion, sidecarVersion, capabilities] = hello as [number, number, string, string[]];
      if (protocolVersion !== PROTOCOL_VERSION) {
        fail(`the sidecar speaks protocol ${protocolVersion}, this host speaks ${PROTOCOL_VERSION}: use a sidecar from the same release`);
        return;
      }
      if (options.expectedSidecarVersion !== undefined && sidecarVersion !== options.expectedSidecarVersion) {
        fail(`the sidecar is version ${sidecarVersion}, this host needs ${options.expectedSidecarVersion}: rebuild it (npm run build)`);
        return;
      }
      cleanup();
      // Paused until the host listens, so nothing written meanwhile is lost; the host resumes both.
      child.stdout!.pause();
      child.stderr!.pause();
      const all = Buffer.concat(received);
      received = [];
      const afterHello = all.subarray(LENGTH_PREFIX_BYTES + all.readUInt32LE(0));
      resolve({ child, hello: { protocolVersion, sidecarVersion, capabilities }, afterHello, stderr });
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('error', onError);
      child.off('exit', onExit);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onStderr);
    };
    child.once('error', onError);
    child.once('exit', onExit);
    child.stdout!.on('data', onData);
  });
}
