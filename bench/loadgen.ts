/**
 * The load generator: a child process (forked by bench/run.ts) that holds the `ws` clients.
 * It receives one job at a time over IPC and answers with its figures. Every loop is bounded
 * in count and in time; every job ends with all its clients closed. The throughput jobs (echo,
 * broadcast) use LeanClient, which costs far less CPU per message than a `ws` client; the
 * others, and every control connection, use `ws`.
 */
import { WebSocket } from 'ws';
import { measureBroadcastWindow } from './broadcast-window.js';
import { LeanClient, maskedFrame, repeatedFrames } from './lean-client.js';
import { quantiles } from './quantiles.js';

interface Job {
  kind: 'echo' | 'broadcast' | 'idle' | 'storm' | 'latency' | 'frametime';
  url: string;
  clients: number;
  /** echo: messages in flight per client; broadcast: rounds in flight */
  window?: number;
  size?: number;
  binary?: boolean;
  warmupMs?: number;
  durationMs?: number;
  /** latency: messages per second per client */
  rate?: number;
  /** broadcast: messages per round */
  batch?: number;
  /** concurrent handshakes while connecting (storm ignores it) */
  concurrency?: number;
  /** idle: how long to hold the connections after they are all up, for the parent to sample RSS */
  holdMs?: number;
  /** ask the server for its main-thread time per frame over the measured window */
  frameTime?: boolean;
  connectTimeoutMs?: number;
}

const HARD_LIMIT_MS = 180_000;
let addressCounter = 0;

/** Spread clients over 127.0.0.2-127.0.0.201 so 10,000+ connections never run out of ephemeral ports. */
function nextLocalAddress(): string {
  addressCounter = (addressCounter + 1) % 200;
  return `127.0.0.${2 + addressCounter}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openWs(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: nextLocalAddress(), perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      resolve(ws);
    });
    ws.once('error', (e) => reject(e));
  });
}

const openLean = (url: string, timeoutMs: number): Promise<LeanClient> => LeanClient.open(url, nextLocalAddress(), timeoutMs);

/** Opens n clients, at most `concurrency` handshakes at a time, retrying refused ones until the deadline. */
async function openMany<C extends WebSocket | LeanClient>(
  open: (url: string, timeoutMs: number) => Promise<C>,
  url: string,
  n: number,
  concurrency: number,
  deadlineMs: number,
): Promise<C[]> {
  const out: C[] = [];
  const deadline = Date.now() + deadlineMs;
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < n && Date.now() < deadline) {
      next++;
      for (;;) {
        try {
          out.push(await open(url, Math.max(1000, deadline - Date.now())));
          break;
        } catch {
          failures++;
          if (Date.now() >= deadline || failures > n * 20) return;
          await sleep(20);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  if (out.length < n) {
    void closeClients(out);
    throw new Error(`only ${out.length} of ${n} clients connected within ${deadlineMs} ms (${failures} failed attempts)`);
  }
  return out;
}

async function closeClients(clients: Array<WebSocket | LeanClient>): Promise<void> {
  const lean = clients.filter((c): c is LeanClient => c instanceof LeanClient);
  await Promise.all([closeAll(clients.filter((c): c is WebSocket => c instanceof WebSocket)), closeLean(lean)]);
}

async function closeLean(clients: LeanClient[]): Promise<void> {
  for (const client of clients) {
    client.onMessages = undefined;
    client.close();
  }
  await Promise.race([Promise.all(clients.map((c) => c.whenClosed)), sleep(3000)]);
  for (const client of clients) client.terminate();
}

async function closeAll(clients: WebSocket[]): Promise<void> {
  const closed = clients.map((ws) => new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r()))));
  for (const ws of clients) {
    ws.removeAllListeners('message');
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
  }
  await Promise.race([Promise.all(closed), sleep(3000)]);
  for (const ws of clients) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}

/** A control client: sends a request and waits for the first reply starting with `prefix`. */
function request(ws: WebSocket, text: string, prefix: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`no "${prefix}" answer to "${text}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (isBinary) return;
      const s = data.toString();
      if (!s.startsWith(prefix)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(s);
    };
    ws.on('message', onMessage);
    ws.send(text);
  });
}

async function frameTime(control: WebSocket | undefined): Promise<unknown> {
  if (control === undefined) return undefined;
  const s = await request(control, '!ftget', '!ft ');
  return JSON.parse(s.slice(4));
}

function textPayload(size: number, stamp: number): string {
  const head = `${stamp}:`;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

async function echo(job: Job): Promise<Record<string, unknown>> {
  const size = job.size ?? 64;
  const window = job.window ?? 8;
  const control = job.frameTime ? await openWs(job.url, 10_000) : undefined;
  const clients = await openMany(openLean, job.url, job.clients, job.concurrency ?? 100, job.connectTimeoutMs ?? 60_000);
  const frame = job.binary ? maskedFrame(Buffer.alloc(size, 0x62), 0x2) : maskedFrame(Buffer.from(textPayload(size, 0)), 0x1);
  const frames = repeatedFrames(frame, window);
  let counting = false;
  let count = 0;
  let stopped = false;
  for (const client of clients) {
    // Each echo sends the next message: the batch of echoes a read brought is answered in one write.
    client.onMessages = (n) => {
      if (counting) count += n;
      if (!stopped) client.send(n <= window ? frames.subarray(0, n * frame.length) : repeatedFrames(frame, n));
    };
  }
  for (const client of clients) client.send(frames);
  await sleep(job.warmupMs ?? 500);
  if (control) await request(control, '!ftreset', '!ok');
  counting = true;
  const t0 = performance.now();
  await sleep(job.durationMs ?? 2000);
  const elapsed = (performance.now() - t0) / 1000;
  counting = false;
  const frameStats = await frameTime(control);
  stopped = true;
  await closeClients(control ? [...clients, control] : clients);
  return { msgs_per_s: count / elapsed, mb_per_s: (count * size) / elapsed / 1e6, count, frame: frameStats };
}

async function latency(job: Job): Promise<Record<string, unknown>> {
  const rate = job.rate ?? 20;
  const size = job.size ?? 64;
  const control = job.frameTime ? await openWs(job.url, 10_000) : undefined;
  const clients = await openMany(openWs, job.url, job.clients, job.concurrency ?? 100, job.connectTimeoutMs ?? 60_000);
  const samples: number[] = [];
  let recording = false;
  let lost = 0;
  let sent = 0;
  let received = 0;
  const origin = performance.now();
  for (const ws of clients) {
    ws.on('message', (data: Buffer) => {
      received++;
      const s = data.toString();
      const stamp = Number(s.slice(0, s.indexOf(':')));
      if (recording && stamp > 0) samples.push(performance.now() - origin - stamp / 1000);
    });
  }
  // Each client sends on its own timer, spread evenly over the period.
  const periodMs = 1000 / rate;
  const timers: NodeJS.Timeout[] = [];
  clients.forEach((ws, i) => {
    const start = setTimeout(() => {
      const send = (): void => {
        sent++;
        ws.send(textPayload(size, Math.round((performance.now() - origin) * 1000)));
      };
      send();
      timers.push(setInterval(send, periodMs));
    }, (periodMs * i) / clients.length);
    timers.push(start);
  });
  await sleep(job.warmupMs ?? 1000);
  recording = true;
  if (control) await request(control, '!ftreset', '!ok');
  await sleep(job.durationMs ?? 3000);
  recording = false;
  const ft = await frameTime(control);
  for (const t of timers) clearTimeout(t), clearInterval(t);
  await sleep(200);
  lost = sent - received;
  await closeAll(control ? [...clients, control] : clients);
  const [p50, p99] = quantiles(samples, 0.5, 0.99);
  return { p50_us: p50! * 1000, p99_us: p99! * 1000, samples: samples.length, lost, frame: ft };
}

async function broadcast(job: Job): Promise<Record<string, unknown>> {
  const batch = job.batch ?? 10;
  const window = job.window ?? 2;
  const size = job.size ?? 1024;
  const control = await openWs(job.url, 10_000);
  const clients = await openMany(openLean, job.url, job.clients, job.concurrency ?? 100, job.connectTimeoutMs ?? 60_000);
  // Make sure the server has announced every receiver before broadcasting to them.
  await request(control, `!wait ${job.clients + 1}`, '!reached');
  const { counted, elapsedS, rounds } = await measureBroadcastWindow({
    clients,
    sendRound: () => control.send(`!bcast ${batch} ${size}`),
    perRound: batch * job.clients,
    window,
    warmupMs: job.warmupMs ?? 500,
    durationMs: job.durationMs ?? 2000,
  });
  await closeClients([...clients, control]);
  return { deliveries_per_s: counted / elapsedS, counted, rounds };
}

async function idle(job: Job): Promise<Record<string, unknown>> {
  const control = await openWs(job.url, 10_000);
  const t0 = performance.now();
  const clients = await openMany(openWs, job.url, job.clients, job.concurrency ?? 200, job.connectTimeoutMs ?? 120_000);
  await request(control, `!wait ${job.clients + 1}`, '!reached', 60_000);
  const connectS = (performance.now() - t0) / 1000;
  let ft: unknown;
  if (job.frameTime) {
    await sleep(1000);
    await request(control, '!ftreset', '!ok');
    await sleep(job.durationMs ?? 3000);
    ft = await frameTime(control);
  }
  process.send!({ type: 'holding' });
  await sleep(job.holdMs ?? 0);
  await closeAll([...clients, control]);
  return { connect_s: connectS, frame: ft };
}

async function storm(job: Job): Promise<Record<string, unknown>> {
  const control = await openWs(job.url, 10_000);
  const reached = request(control, `!wait ${job.clients + 1}`, '!reached', job.connectTimeoutMs ?? 60_000);
  reached.catch(() => {}); // a storm that never completes is a result, not a crash
  await sleep(50); // let the server take the !wait before the storm starts
  const t0 = performance.now();
  let openedAt = 0;
  let announcedAt = 0;
  const attempts = Array.from({ length: job.clients }, () => openWs(job.url, job.connectTimeoutMs ?? 60_000));
  const settled = await Promise.allSettled(attempts);
  openedAt = performance.now() - t0;
  const ok = settled.filter((s): s is PromiseFulfilledResult<WebSocket> => s.status === 'fulfilled').map((s) => s.value);
  let announced = true;
  if (ok.length === job.clients) {
    await reached.catch(() => (announced = false));
    announcedAt = performance.now() - t0;
  } else {
    announced = false;
    reached.catch(() => {});
  }
  await closeAll([...ok, control]);
  return {
    opened: ok.length,
    all_open_ms: openedAt,
    all_announced_ms: announced ? announcedAt : NaN,
    total_ms: announced ? Math.max(openedAt, announcedAt) : NaN,
  };
}

process.on('message', async (job: Job) => {
  const guard = setTimeout(() => {
    process.send!({ type: 'error', error: `job ${job.kind} ran past ${HARD_LIMIT_MS} ms` });
    process.exit(3);
  }, HARD_LIMIT_MS);
  try {
    const run = { echo, broadcast, idle, storm, latency, frametime: idle }[job.kind];
    const result = await run(job);
    process.send!({ type: 'result', result });
  } catch (error) {
    process.send!({ type: 'error', error: (error as Error).message });
  } finally {
    clearTimeout(guard);
  }
});
process.on('disconnect', () => process.exit(0));
