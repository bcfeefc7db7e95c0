// A stand-in for a project's GitHub release page, for test_downloader.gd.
//   node release_server.cjs <folder> <port-file> <parent-pid>
// Serves <folder>'s files on 127.0.0.1 at a free port, which it writes to <port-file> once listening:
//   /files/<name>     the file, with its Content-Length
//   /redirect/<name>  302 to /files/<name> (GitHub's downloads redirect twice)
//   /drop/<name>      the headers and half of the body, then the connection is destroyed
// Anything else is a 404. It exits when <parent-pid> (the Godot running the test) is gone, and after
// 120 s in any case, so a test that dies cannot leave it running or holding the runner's output pipe.
'use strict';
const { createServer } = require('node:http');
const { readFileSync, writeFileSync, existsSync } = require('node:fs');
const { join, basename } = require('node:path');

const [folder, portFile, parentPid] = process.argv.slice(2);
if (!folder || !portFile || !Number(parentPid)) {
  console.error('usage: node release_server.cjs <folder> <port-file> <parent-pid>');
  process.exit(2);
}

const server = createServer((req, res) => {
  const [, route, name] = (req.url ?? '').split('/');
  const file = name ? join(folder, basename(decodeURIComponent(name))) : '';
  if (route === 'redirect' && name) {
    res.writeHead(302, { Location: `/files/${name}` });
    res.end();
    return;
  }
  if ((route !== 'files' && route !== 'drop') || !file || !existsSync(file)) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
    return;
  }
  const body = readFileSync(file);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  if (route === 'files') {
    res.end(body);
    return;
  }
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
setTimeout(() => process.exit(0), 120_000);
setInterval(() => {
  try {
    process.kill(Number(parentPid), 0);
  } catch {
    process.exit(0);
  }
}, 250);
