/**
 * The floor under the sidecar's added latency: a message's round trip through two stdio pipes
 * between two bare Node processes, at the latency scenario's message rate. The sidecar adds
 * exactly such a pair of hops (sidecar → host → sidecar) to every echo; on a virtual machine
 * each hop wakes a sleeping process, and that wake-up, not our code, is most of the cost.
 */
import { spawn } from 'node:child_process';
import { quantiles } from './quantiles.js';

/** The other end of the pipes: echoes stdin to stdout, chunk by chunk, as the host does. */
const ECHO_CHILD = "process.stdin.on('data', (d) => process.stdout.write(d)); process.stdin.on('end', () => process.exit(0));";

export interface PipeFloor {
  p50_us: number;
  p99_us: number;
  samples: number;
}

/**
 * Sends a 64-byte message every 1/`rate` s for `durationMs` and times each echo.
 * Bounded: at most rate × duration messages, and the child is killed after durationMs + 5 s.
 */
export async function measurePipeFloor(rate: number, durationMs: number): Promise<PipeFloor> {
  const child = spawn(process.execPath, ['-e', ECHO_CHILD], { stdio: ['pipe', 'pipe', 'ignore'] });
  const guard = setTimeout(() => child.kill('SIGKILL'), durationMs + 5000);
  const message = Buffer.alloc(64, 0x78);
  const samples: number[] = [];
  let sentAt = 0n;
  let waiting = false;
  child.stdout.on('data', () => {
    if (!waiting) return;
    waiting = false;
    samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the child start
  const periodMs = 1000 / rate;
  const count = Math.floor(durationMs / periodMs);
  await new Promise<void>((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      // One message in flight at a time, like one client among a hundred at 20 msg/s each.
      if (waiting) return;
      if (sent++ >= count) {
        clearInterval(timer);
        resolve();
        return;
      }
      waiting = true;
      sentAt = process.hrtime.bigint();
      child.stdin.write(message);
    }, periodMs);
  });
  child.stdin.end();
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(guard);
  const [p50, p99] = quantiles(samples, 0.5, 0.99);
  return { p50_us: p50!, p99_us: p99!, samples: samples.length };
}
