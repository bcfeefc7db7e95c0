// Baseline: a raw `ws` server in Node doing what the bench servers do (bench/README.md, "Server
// protocol"). Plain JavaScript run with `node`, no loader, so its memory is comparable with the
// sidecar bundle's. Prints one READY line on stdout when listening.
import { WebSocketServer } from 'ws';

const t0 = process.hrtime.bigint();
const clients = new Set();
let waitFor = 0;
let waiter = null;
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', clientTracking: false, perMessageDeflate: false, backlog: 511 });
wss.on('listening', () => {
  const startupUs = Number(process.hrtime.bigint() - t0) / 1000;
  process.stdout.write(`READY port=${wss.address().port} startup_us=${startupUs.toFixed(0)} rss_pids=${process.pid}\n`);
});
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.length > 0 && data[0] === 0x21 /* ! */) return control(ws, data.toString());
    ws.send(data, { binary: isBinary });
  });
  if (waiter !== null && clients.size >= waitFor) {
    waiter.send('!reached');
    waiter = null;
  }
});

function control(ws, text) {
  const [cmd, a, b] = text.split(' ');
  if (cmd === '!bcast') {
    const payload = Buffer.alloc(Number(b), 0x61);
    for (let i = 0; i < Number(a); i++) for (const c of clients) if (c !== ws) c.send(payload, { binary: false });
  } else if (cmd === '!wait') {
    waitFor = Number(a);
    if (clients.size >= waitFor) ws.send('!reached');
    else waiter = ws;
  } else if (cmd === '!ftreset') {
    ws.send('!ok');
  } else if (cmd === '!ftget') {
    ws.send('!ft {}');
  }
}

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
