/**
 * The page the demo answers a browser with: a chat box that opens a
 * WebSocket to the address it was loaded from, so it works on any port and
 * host name without being told. Plain HTML and one inline script; no
 * external files, since the demo serves nothing else. `?say=TEXT` in the
 * address sends TEXT as soon as the socket opens.
 */

/** The whole page, as served at `/`. */
export const DEMO_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WebSocket server demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; white-space: pre-wrap; }
  #log .me { color: #555; }
  #log .status { color: #a60; }
  form { display: flex; gap: .5rem; margin-top: .5rem; }
  #text { flex: 1; }
</style>
</head>
<body>
<h1>WebSocket server demo</h1>
<p>Status: <span id="status">connecting</span>. Try <code>hello</code>, <code>/join lobby</code>,
<code>/say lobby hi all</code>, <code>/all hello everyone</code>, <code>/leave lobby</code>;
open this page in a second tab to chat between them.</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="message" autofocus><button>Send</button></form>
<script>
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const show = (text, kind) => {
    const line = document.createElement('div');
    if (kind) line.className = kind;
    line.textContent = text;
    log.append(line);
    log.scrollTop = log.scrollHeight;
  };
  const socket = new WebSocket(url);
  // ?say=TEXT sends TEXT once connected: a link that starts a conversation, and how tests drive the page.
  const say = new URLSearchParams(location.search).get('say');
  socket.onopen = () => {
    status.textContent = 'connected to ' + url;
    if (say) { socket.send(say); show('> ' + say, 'me'); }
  };
  socket.onclose = (event) => { status.textContent = 'closed (' + event.code + ')'; show('connection closed', 'status'); };
  socket.onmessage = (event) => show(typeof event.data === 'string' ? event.data : '[binary message]');
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById('text');
    if (input.value === '' || socket.readyState !== WebSocket.OPEN) return;
    socket.send(input.value);
    show('> ' + input.value, 'me');
    input.value = '';
  };
</script>
</body>
</html>
`;
