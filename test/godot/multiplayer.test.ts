/**
 * Godot's high-level multiplayer over the sidecar, with real engines: a server process on
 * WebSocketServerMultiplayerPeer and client processes on Godot's stock WebSocketMultiplayerPeer
 * (godot-addon/tests/multiplayer/: run.gd starts a process, game.gd is the scenario). Then a
 * hand-written client with stale and bad ids, a headless Chromium speaking the stock wire by
 * hand (4-byte id, then packets), and one more stock client to show the server still serves.
 * Needs GODOT (an engine; the headless debug template works) and the sidecar bundle (npm run build).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { findChromium, HeadlessChromium } from '../support/headless-chromium.js';
import { until } from '../support/harness.js';

const GODOT = process.env.GODOT;
const PROJECT = join(dirname(fileURLToPath(import.meta.url)), '../../godot-addon');
const CHROMIUM = findChromium();
/** Appended to every title when skipped, for npm test's list of skipped groups. */
const SKIPPED = GODOT ? '' : ' (skipped: GODOT is not set; run GODOT=/path/to/godot npm test, a Godot 4.4+ binary)';

/** One engine process running tests/multiplayer/run.gd; its output kept line by line. */
class GodotProcess {
  readonly lines: string[] = [];
  exitCode: number | null | undefined;
  private readonly child: ChildProcess;

  constructor(readonly name: string, args: string[]) {
    this.child = spawn(GODOT!, ['--headless', '--path', PROJECT, '--script', 'res://tests/multiplayer/run.gd', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const collect = (chunk: Buffer): void => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.child.once('exit', (code) => (this.exitCode = code));
  }

  /** The MP lines so far (what game.gd says), without the prefix. */
  said(): string[] {
    return this.lines.filter((line) => line.startsWith('MP ')).map((line) => line.slice(3));
  }

  /** Waits for an MP line matching `pattern`; returns its match. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    let found: RegExpExecArray | null = null;
    await until(() => (found = this.said().map((line) => pattern.exec(line)).find((m) => m !== null) ?? null) !== null, `${this.name}: ${pattern}`, timeoutMs, () => this.lines.join('\n'));
    return found!;
  }

  async exited(timeoutMs = 30_000): Promise<number | null> {
    await until(() => this.exitCode !== undefined, `${this.name} to exit`, timeoutMs, () => this.lines.join('\n'));
    return this.exitCode!;
  }

  kill(): void {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
  }
}

/** A SceneMultiplayer packet: a sys command (7) with one int32 argument, then `payload`. */
function sysPacket(command: number, peerId: number, payload: number[] = []): Buffer {
  const packet = Buffer.alloc(6 + payload.length);
  packet[0] = 7;
  packet[1] = command;
  packet.writeInt32LE(peerId, 2);
  packet.set(payload, 6);
  return packet;
}

const processes: GodotProcess[] = [];
function start(name: string, args: string[]): GodotProcess {
  const started = new GodotProcess(name, args);
  processes.push(started);
  return started;
}
afterAll(() => processes.forEach((p) => p.kill()));

describe.skipIf(!GODOT)('WebSocketServerMultiplayerPeer with stock Godot clients', () => {
  let server: GodotProcess;
  let url = '';

  it('serves rpc_id both ways, rpc to all, relayed client-to-client RPCs, a spawner and a synchronizer, and disconnects' + SKIPPED, async () => {
    const cache = spawnSync('bash', [join(PROJECT, 'write-class-cache.sh')], { encoding: 'utf8' });
    expect(cache.status, cache.stderr).toBe(0);
    server = start('server', ['--role=server', '--clients=2', '--late=1']);
    const [, port] = await server.waitFor(/^server listening (\d+) unique_id=1 is_server=true status=2$/);
    url = `ws://127.0.0.1:${port}`;
    const clients = [start('client A', ['--role=client', `--url=${url}`]), start('client B', ['--role=client', `--url=${url}`])];
    const ids = await Promise.all(clients.map(async (c) => Number((await c.waitFor(/^client connected id=(\d+)$/))[1])));
    expect(ids.every((id) => id >= 2)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    await server.waitFor(/^server scenario done$/);
    const said = server.said();
    for (const id of ids) {
      expect(said).toContain(`server peer_connected ${id}`);
      expect(said).toContain(`server hello_reply from=${id} doubled=${id * 2} text=hi ${id}!`);
      for (const player of ids) expect(said).toContain(`server sync_seen by=${id} player=P${player}`);
    }
    const [low, high] = [...ids].sort((a, b) => a - b) as [number, number];
    expect(said).toContain(`server poke_seen by=${high} poker=${low}`);
    for (const [index, client] of clients.entries()) {
      const id = ids[index]!;
      const other = ids[1 - index]!;
      const lines = client.said();
      expect(lines).toContain(`client ${id} hello your_id=${id} text=hi ${id} from=1`);
      expect(lines).toContain(`client ${id} announce text=to all peers=[${low}, ${high}]`);
      expect(lines).toContain(`client peer_connected ${other}`);
      for (const player of ids) expect(lines).toContain(`client ${id} synced P${player} score=43`);
    }
    expect(clients[ids.indexOf(high)]!.said()).toContain(`client ${high} poked by=${low} text=from ${low}`);
    // The server disconnects the first client and tells the other to close its peer.
    await server.waitFor(/^server ready for late clients$/);
    for (const id of ids) expect(server.said()).toContain(`server peer_disconnected ${id}`);
    const first = Number((await server.waitFor(/^server disconnecting (\d+)$/))[1]);
    const disconnected = clients[ids.indexOf(first)]!;
    await disconnected.waitFor(/^client server_disconnected$/);
    expect(await disconnected.exited()).toBe(0);
    const leaver = clients[1 - ids.indexOf(first)]!;
    await leaver.waitFor(/^client \d+ leaving$/);
    expect(await leaver.exited()).toBe(0);
  }, 90_000);

  it('answers create_server on a port in use with ERR_ALREADY_IN_USE' + SKIPPED, async () => {
    const port = new URL(url).port;
    const taken = start('taken', ['--role=taken', `--port=${port}`]);
    await taken.waitFor(/^taken create_server=Already in use status=0 unique_id=0$/);
    expect(await taken.exited()).toBe(0);
  });

  it('survives a client that sends stale and bad ids, junk, and leaves with packets unread' + SKIPPED, async () => {
    expect(url, 'the first test started the server').not.toBe('');
    const raw = new WebSocket(url);
    const idMessage = await new Promise<Buffer>((resolve, reject) => raw.once('message', resolve).once('error', reject));
    expect(idMessage.length).toBe(4);
    const id = idMessage.readInt32LE(0);
    await server.waitFor(new RegExp(`^server peer_connected ${id}$`));
    raw.send(sysPacket(3, 2, [3, 0x41])); // relay to peer 2, which left: a stale id
    raw.send(sysPacket(3, 999_999, [3, 0x41])); // relay to a peer that never existed
    raw.send(sysPacket(3, -1, [0, 0xff, 0xff])); // relay to all but the server, with a broken RPC
    raw.send(sysPacket(1, id)); // a client pretending to announce a peer
    raw.send(Buffer.from([0, 0xde, 0xad, 0xbe, 0xef])); // an RPC with a path id nobody sent
    raw.send(Buffer.alloc(0));
    raw.send('text is not a packet a stock client sends');
    raw.send(Buffer.from([3, ...Buffer.from('raw before leaving')]));
    raw.close();
    await server.waitFor(new RegExp(`^server raw from=${id} text=raw before leaving$`));
    await server.waitFor(new RegExp(`^server peer_disconnected ${id}$`));
    expect(server.exitCode).toBeUndefined();
  });

  it.skipIf(CHROMIUM === undefined)(`lets a browser connect with the stock wire, by hand${CHROMIUM ? SKIPPED : ' (skipped: no Chromium; apt-get install chromium, or set CHROMIUM)'}`, async () => {
    const browser = await HeadlessChromium.launch(CHROMIUM!);
    try {
      const result = await browser.evaluate<{ id: number; echo: string }>(`new Promise((resolve, reject) => {
        const ws = new WebSocket(${JSON.stringify(url)});
        ws.binaryType = 'arraybuffer';
        let id = 0;
        ws.onerror = () => reject(new Error('WebSocket error'));
        ws.onmessage = (event) => {
          const bytes = new Uint8Array(event.data);
          if (id === 0) {
            if (bytes.length !== 4) return reject(new Error('first message of ' + bytes.length + ' bytes'));
            id = new DataView(event.data).getInt32(0, true);
            ws.send(new Uint8Array([3, ...new TextEncoder().encode('from the browser')]));
          } else if (bytes[0] === 3) {
            resolve({ id, echo: new TextDecoder().decode(bytes.subarray(1)) });
            ws.close();
          }
        };
      })`);
      expect(result.id).toBeGreaterThanOrEqual(2);
      expect(result.echo).toBe('echo from the browser');
      await server.waitFor(new RegExp(`^server raw from=${result.id} text=from the browser$`));
      await server.waitFor(new RegExp(`^server peer_disconnected ${result.id}$`));
    } finally {
      await browser.close();
    }
  });

  it('still serves a stock client afterwards, then the server exits cleanly' + SKIPPED, async () => {
    const late = start('late client', ['--role=client', `--url=${url}`]);
    const id = Number((await late.waitFor(/^client connected id=(\d+)$/))[1]);
    await late.waitFor(new RegExp(`^client ${id} hello your_id=${id} text=late ${id} from=1$`));
    await server.waitFor(new RegExp(`^server hello_reply from=${id} doubled=${id * 2} text=late ${id}!$`));
    expect(await server.exited()).toBe(0);
    expect(server.lines.filter((line) => /SCRIPT ERROR|Segmentation|crash/i.test(line))).toEqual([]);
    late.kill();
  });
});
