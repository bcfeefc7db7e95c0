/**
 * Checks two things the seed GDExtension's source predicts, against the seed itself:
 * a fragmented message (what comes back when a text message is sent as two frames) and how
 * long one 64 KiB binary message takes to come back when the seed reads 4 KiB per client per
 * 50 ms loop. Uses bench/godot/main.gd (`--mode=seed`), which echoes each message as it came.
 *
 *   GODOT=/path/to/godot SEED_GDEXT=/path/to/seed npx tsx bench/seed-probe.ts
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { freePort, prepareSeedProject, resolveSeedExtension, SEED_SKIPPED } from './seed-project.js';
import { stopProcess } from './stop-process.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const seed = resolveSeedExtension(process.env.SEED_GDEXT);
const godot = process.env.GODOT;
if (seed === undefined || godot === undefined) {
  console.log(seed === undefined ? SEED_SKIPPED : 'seed probe skipped: set GODOT=<path of a Godot 4.4 engine>');
  process.exit(0);
}

const project = prepareSeedProject(join(BENCH, 'godot'), seed);
const port = await freePort();
const proc = spawn(godot, ['--headless', '--path', project, '--', '--mode=seed', `--port=${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
const guard = setTimeout(() => {
  console.log('seed probe: gave up after 60 s');
  proc.kill('SIGKILL');
  process.exit(1);
}, 60_000);
await new Promise<void>((resolve) => {
  let out = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('READY ')) resolve();
  });
});

const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
ws.binaryType = 'nodebuffer';
await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
const received: Array<{ at: number; binary: boolean; data: Buffer }> = [];
ws.on('message', (data: Buffer, binary: boolean) => received.push({ at: performance.now(), binary, data }));

/** Resolves once a text message equal to `text` has arrived (the seed answers "!ftreset" with "!ok"). */
async function until(text: string): Promise<void> {
  while (!received.some((m) => !m.binary && m.data.toString() === text)) await new Promise((r) => setTimeout(r, 5));
}

// 1. One text message sent as two frames: "frag-" (FIN clear) and the continuation "ment".
ws.send('frag-', { fin: false });
ws.send('ment', { fin: true });
ws.send('!ftreset');
await until('!ok');
const echoes = received.filter((m) => m.data.toString() !== '!ok').map((m) => JSON.stringify(m.data.toString()));
console.log(`fragmented text "frag-" + "ment": echoed back ${echoes.length === 0 ? 'nothing' : echoes.join(', ')} (a whole message would be "frag-ment")`);

// 2. One 64 KiB binary message at a time, five times: send to echo.
const times: number[] = [];
for (let i = 0; i < 5; i++) {
  received.length = 0;
  const t0 = performance.now();
  ws.send(Buffer.alloc(65536, 0x62), { binary: true });
  while (!received.some((m) => m.binary && m.data.length === 65536)) await new Promise((r) => setTimeout(r, 1));
  times.push(received.find((m) => m.binary)!.at - t0);
}
console.log(`64 KiB binary echo, one at a time: ${times.map((t) => t.toFixed(0)).join(', ')} ms (16 reads of 4 KiB, one per 50 ms loop: about 800 ms)`);

ws.close();
clearTimeout(guard);
await stopProcess(proc);
rmSync(project, { recursive: true, force: true });
process.exit(0);
