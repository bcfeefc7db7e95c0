extends RefCounted
## Issue #18, the defects of starting and stopping (3, 5, 9, 10, 12, 13):
## two servers in one game, start() from server_error, sends queued before
## free(), a failing autostart, a hung sidecar and one that skips hello.

const Runner := preload("res://tests/run_tests.gd")
const Kit := preload("res://tests/hardening_kit.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")

## Longest stop() or free() may take with a second server running (defect 3).
const STOP_BOUND_MS: int = 200
## How far start() may overrun startup_timeout_ms (defect 12).
const STARTUP_SLACK_MS: int = 150


## A scene's parent that connects to its server child in [code]_ready[/code],
## which runs after the child's own [code]_ready[/code] (defect 10).
class AutostartParent:
	extends Node
	var server: Server
	var errors: PackedStringArray = []

	func _ready() -> void:
		server.server_error.connect(func(e: String) -> void: errors.append(e))

## A WebSocket client on a bare TCP socket that keeps every byte the server
## sent until the connection ends (defect 9). Godot 4.4's [WebSocketPeer]
## drops a message read in the same [code]poll()[/code] as the close frame
## (godotengine/godot#107442), so whether a last message reached the wire
## before the close cannot be seen through it. Server frames are unmasked: a
## text payload appears verbatim in [member stream].
class RawClient:
	var tcp := StreamPeerTCP.new()
	var stream := PackedByteArray()
	var _handshake_sent := false

	func _init(port: int) -> void:
		tcp.connect_to_host("127.0.0.1", port)

	func poll() -> void:
		tcp.poll()
		var status := tcp.get_status()
		if status == StreamPeerTCP.STATUS_CONNECTED and not _handshake_sent:
			_handshake_sent = true
			tcp.put_data(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
					+ "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").to_ascii_buffer())
		if status == StreamPeerTCP.STATUS_CONNECTED and tcp.get_available_bytes() > 0:
			var got: Array = tcp.get_partial_data(tcp.get_available_bytes())
			if got[0] == OK:
				stream.append_array(got[1])

	func is_closed() -> bool:
		return tcp.get_status() != StreamPeerTCP.STATUS_CONNECTED and tcp.get_status() != StreamPeerTCP.STATUS_CONNECTING

	## [code]true[/code] once the server's close frame (opcode 8) arrived.
	func saw_close_frame() -> bool:
		return is_upgraded() and stream.find(0x88) > stream.find(13)

	func is_upgraded() -> bool:
		return stream.slice(0, 12).get_string_from_ascii() == "HTTP/1.1 101"

	## Where [param text] sits in what the server sent, -1 if nowhere.
	func find(text: String) -> int:
		var needle := text.to_utf8_buffer()
		var at := stream.find(needle[0])
		while at >= 0:
			if stream.slice(at, at + needle.size()) == needle:
				return at
			at = stream.find(needle[0], at + 1)
		return -1

var t: Runner
var kit: Kit


func run(runner: Runner) -> void:
	t = runner
	kit = Kit.new(runner)
	await _test_two_servers()
	await _test_start_from_server_error()
	await _test_sends_before_free()
	await _test_autostart_failure_is_heard()
	await _test_autostart_failure_reaches_output()
	_test_hung_sidecar_startup()
	_test_sidecar_without_hello()
	kit.close_clients()


func _server(sidecar: String = "") -> Server:
	var s: Server = Server.new()
	s.sidecar_path = sidecar
	s.forward_sidecar_logs = false
	return s


# A started server with one open client; null (after a failed check) if not.
func _server_with_client(what: String) -> Array:
	var s := _server()
	if not t.check(s.start(0, "127.0.0.1"), "%s: start(0) listens" % what):
		s.free()
		return []
	var c := kit.client("ws://127.0.0.1:%d" % s.get_port())
	if not t.check(await kit.wait_processing(s, func() -> bool: return c.is_open() and s.get_client_count() == 1),
			"%s: a client connects" % what):
		s.free()
		return []
	return [s, c]


func _test_two_servers() -> void:
	var other := _server()
	if not t.check(other.start(0, "127.0.0.1"), "defect 3: server B listens"):
		other.free()
		return
	var pair := await _server_with_client("defect 3 (stop)")
	if pair.is_empty():
		other.free()
		return
	var a: Server = pair[0]
	var a_client: Kit.Client = pair[1]
	var began := Time.get_ticks_msec()
	a.stop()
	var stop_ms := Time.get_ticks_msec() - began
	t.check(stop_ms <= STOP_BOUND_MS, "defect 3: A.stop() with server B running returns within %d ms (took %d ms)" % [
			STOP_BOUND_MS, stop_ms])
	t.check(
			await kit.wait(func() -> bool: return a_client.is_closed(), 3000),
			"defect 3: A's client is closed by A.stop()")
	t.check_eq(a_client.peer.get_close_code(), 1001, "defect 3: A's client sees 1001 after A.stop() with B running")
	a.free()
	pair = await _server_with_client("defect 3 (free)")
	if pair.is_empty():
		other.free()
		return
	var freed_client: Kit.Client = pair[1]
	began = Time.get_ticks_msec()
	pair[0].free()
	var free_ms := Time.get_ticks_msec() - began
	t.check(free_ms <= STOP_BOUND_MS, "defect 3: A.free() with server B running returns within %d ms (took %d ms)" % [
			STOP_BOUND_MS, free_ms])
	t.check(
			await kit.wait(func() -> bool: return freed_client.is_closed(), 3000),
			"defect 3: A's client is closed by A.free()")
	t.check_eq(
			freed_client.peer.get_close_code(), 1001,
			"defect 3: A's client sees 1001 (not 1006) after A.free() with B running")
	other.process()
	t.check(other.is_listening(), "defect 3: B still listens after A stopped and was freed")
	other.stop()
	other.free()


func _test_start_from_server_error() -> void:
	var pair := await _server_with_client("defect 5")
	if pair.is_empty():
		return
	var s: Server = pair[0]
	var old_ids := s.get_client_ids()
	var log: Array = []
	var restarted := [false]
	s.client_disconnected.connect(func(id: int, code: int) -> void: log.append("disconnected %d %d" % [id, code]))
	s.server_stopped.connect(func() -> void: log.append("stopped"))
	s.server_started.connect(func(port: int) -> void: log.append("started"))
	s.server_error.connect(func(e: String) -> void:
		log.append("error")
		if not restarted[0]:
			# What the error text suggests: "Call start() to restart it."
			restarted[0] = true
			s.start(0, "127.0.0.1"))
	var sidecars := Kit.own_sidecars()
	if not t.check(sidecars.size() == 1, "defect 5: the server's one sidecar is found under /proc: %s" % [sidecars]):
		s.free()
		return
	# A sidecar that dies while the game runs: server_error follows.
	OS.kill(sidecars[0])
	await kit.wait_processing(s, func() -> bool: return log.has("started") and log.has("stopped"), 5000)
	var started_at := log.find("started")
	var stopped_at := log.find("stopped")
	var gone_at := log.find("disconnected %d 1006" % old_ids[0])
	t.check(
			gone_at >= 0 and gone_at < started_at,
			("defect 5: start() from server_error: the old client's client_disconnected(1006) comes before the new "
					+ "start: %s") % [log])
	t.check(
			stopped_at >= 0 and stopped_at < started_at,
			"defect 5: start() from server_error: server_stopped comes before the new server_started: %s" % [log])
	t.check(s.is_listening(), "defect 5: the server started from server_error listens")
	s.stop()
	s.free()


func _test_sends_before_free() -> void:
	for how: String in ["free", "stop"]:
		var s := _server()
		if not t.check(s.start(0, "127.0.0.1"), "defect 9 (%s): start(0) listens" % how):
			s.free()
			continue
		var c := RawClient.new(s.get_port())
		var ready := await _wait_raw(c, s, func() -> bool: return c.is_upgraded() and s.get_client_count() == 1)
		if not t.check(ready, "defect 9 (%s): a raw client upgrades" % how):
			s.free()
			continue
		var words := "last words before %s" % how
		t.check_eq(s.send_text(s.get_client_ids()[0], words), OK, "defect 9 (%s): send_text returns OK" % how)
		if how == "free":
			s.free()
		else:
			s.stop()
		await _wait_raw(c, null, func() -> bool: return c.is_closed() or c.saw_close_frame())
		var at := c.find(words)
		t.check(
				at >= 0 and c.saw_close_frame() and at < c.stream.rfind(0x88),
				("defect 9: a send_text queued in the same frame as %s() reaches the wire before the close frame "
						+ "(%d bytes seen, payload at %d)") % [how, c.stream.size(), at])
		if how == "stop":
			s.free()


# Polls [param c] (and processes [param s] while it lives) until [param cond] holds, at most 3 s.
func _wait_raw(c: RawClient, s: Server, cond: Callable) -> bool:
	var deadline := Time.get_ticks_msec() + 3000
	while Time.get_ticks_msec() < deadline:
		c.poll()
		if s != null and is_instance_valid(s):
			s.process()
		if cond.call():
			return true
		await t.process_frame
	return false


func _test_autostart_failure_is_heard() -> void:
	var holder := TCPServer.new()
	var port := 18105
	if not t.check(holder.listen(port, "127.0.0.1") == OK, "defect 10: port %d can be taken for the test" % port):
		return
	var parent := AutostartParent.new()
	parent.server = _server()
	parent.server.port = port
	parent.server.host = "127.0.0.1"
	parent.server.autostart = true
	parent.add_child(parent.server)
	t.root.add_child(parent)
	await kit.wait(func() -> bool: return not parent.errors.is_empty(), 3000)
	t.check(
			parent.errors.size() == 1 and parent.errors[0].contains("address_in_use"),
			("defect 10: a failing autostart (port %d in use) reaches a server_error handler connected in the parent's "
					+ "_ready: %s") % [port, parent.errors])
	parent.queue_free()
	holder.stop()
	await t.process_frame


func _test_autostart_failure_reaches_output() -> void:
	var child := Kit.spawn_child("autostart_busy", ["--port=18106"])
	var took := await kit.wait_exit(child, 15000)
	t.check(
			took >= 0 and child.log_errors().contains("address_in_use"),
			("defect 10: a failing autostart with no server_error handler still reaches the Output through push_error "
					+ "(ERROR lines seen: '%s'; findings %s)") % [child.log_errors(), child.findings()])
	child.end()


func _test_hung_sidecar_startup() -> void:
	var s := _server("res://tests/fake_sidecar_mute.cjs")
	s.startup_timeout_ms = 500
	var errors: PackedStringArray = []
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	var before := Kit.own_sidecars()
	var began := Time.get_ticks_msec()
	var ok := s.start(0, "127.0.0.1")
	var took := Time.get_ticks_msec() - began
	t.check(not ok and errors.size() == 1, "defect 12: a sidecar that never answers fails start(): %s" % [errors])
	t.check(
			took <= s.startup_timeout_ms + STARTUP_SLACK_MS,
			"defect 12: start() gives up within startup_timeout_ms 500 + %d ms (took %d ms)" % [STARTUP_SLACK_MS, took])
	for pid: int in Kit.own_sidecars():
		if not before.has(pid):
			OS.kill(pid)
	s.free()


func _test_sidecar_without_hello() -> void:
	var s := _server("res://tests/fake_sidecar_no_hello.cjs")
	s.startup_timeout_ms = 2000
	var errors: PackedStringArray = []
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	var ok := s.start(0, "127.0.0.1")
	t.check(
			not ok and not s.is_listening(),
			"defect 13: a sidecar that sends listening without hello is refused: start() returned %s" % ok)
	t.check(
			errors.size() == 1 and errors[0].contains("hello"),
			"defect 13: the refusal names the missing hello: %s" % [errors])
	s.free()
