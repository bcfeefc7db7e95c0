extends RefCounted
## Live round trips: the real sidecar, real WebSocket clients (Godot's own
## WebSocketPeer), the seed's Quick Start unchanged, and failure paths.

const Runner := preload("res://tests/run_tests.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")
const QuickStart := preload("res://examples/quick_start.gd")
## Its WebSocket clients and bounded waits are the hardening tests' own.
const Kit := preload("res://tests/hardening_kit.gd")

var t: Runner
var kit: Kit


func run(runner: Runner) -> void:
	t = runner
	kit = Kit.new(runner)
	await _test_quick_start()
	await _test_node_in_tree()
	await _test_sidecar_death()
	await _test_auth()
	await _test_bad_sidecars()
	await _test_chat_example()
	kit.close_clients()


func _test_quick_start() -> void:
	var qs: Node = QuickStart.new()
	var errors: Array[String] = []
	var disconnects: Array = []
	qs.server.server_error.connect(func(e: String) -> void: errors.append(e))
	qs.server.client_disconnected.connect(func(id: int, code: int) -> void: disconnects.append([id, code]))
	var started := Time.get_ticks_msec()
	t.root.add_child(qs)
	if not t.check(qs.server.is_listening(), "the Quick Start's server listens on 8080 (errors: %s)" % [errors]):
		qs.queue_free()
		return
	print("   Quick Start: start() returned true after %d ms" % (Time.get_ticks_msec() - started))
	var a := kit.client("ws://127.0.0.1:8080")
	t.check(await kit.wait(func() -> bool: return a.has("Welcome to the server!")), "a client gets the welcome text")
	a.peer.send_text("hello there")
	t.check(await kit.wait(func() -> bool: return a.has("Echo: hello there")), "text is echoed with 'Echo: '")
	var blob := PackedByteArray()
	for i: int in 1000:
		blob.append(i % 251)
	a.peer.put_packet(blob)
	t.check(await kit.wait(func() -> bool: return a.has(blob)), "binary is echoed byte for byte")
	var b := kit.client("ws://127.0.0.1:8080")
	var c := kit.client("ws://127.0.0.1:8080")
	t.check(
			await kit.wait(func() -> bool: return b.has("Welcome to the server!") and c.has("Welcome to the server!")),
			"two more clients get the welcome text")
	t.check_eq(qs.server.get_client_count(), 3, "three clients are counted")
	t.check_eq(qs.server.broadcast_text("to everyone"), OK, "broadcast_text returns OK")
	t.check(
			await kit.wait(func() -> bool: return a.has("to everyone") and b.has("to everyone") and c.has("to everyone")),
			"a broadcast reaches every client")
	var three := PackedByteArray([1, 2, 3])
	t.check_eq(qs.server.broadcast_binary(three), OK, "broadcast_binary returns OK")
	t.check(
			await kit.wait(func() -> bool: return a.has(three) and b.has(three) and c.has(three)),
			"a binary broadcast reaches every client")
	# Round trips: one client, echo after echo.
	var rounds := 200
	var round_start := Time.get_ticks_msec()
	for i: int in rounds:
		a.peer.send_text("r%d" % i)
		var want := "Echo: r%d" % i
		if not await kit.wait(func() -> bool: return a.received.back() is String and a.received.back() == want, 2000):
			t.check(false, "echo round trip %d" % i)
			break
	print("   Quick Start: %d sequential echo round trips in %d ms" % [rounds, Time.get_ticks_msec() - round_start])
	b.peer.close(4001, "bye")
	t.check(
			await kit.wait(func() -> bool: return disconnects.any(func(d: Array) -> bool: return d[1] == 4001)),
			"client_disconnected reports the client's close code 4001: %s" % [disconnects])
	# Port in use: a second server on the same port fails with the reason.
	var second: Server = Server.new()
	var second_errors: Array[String] = []
	second.server_error.connect(func(e: String) -> void: second_errors.append(e))
	t.check(not second.start(8080, "0.0.0.0"), "start() on a port in use returns false")
	t.check(
			second_errors.size() == 1 and second_errors[0].contains("address_in_use") and second_errors[0].contains("8080"),
			"server_error names the port in use: %s" % [second_errors])
	t.check(not second.is_listening(), "the failed server is not listening")
	second.free()
	t.check(errors.is_empty(), "the Quick Start's server reported no error: %s" % [errors])
	qs.server.stop()
	t.check(await kit.wait(func() -> bool: return a.is_closed() and c.is_closed()), "stop() closes every client")
	t.check_eq(a.peer.get_close_code(), 1001, "clients see 1001 (going away) after stop()")
	t.check(not qs.server.is_listening(), "not listening after stop()")
	var qs_server: Server = qs.server
	qs.queue_free()
	await t.process_frame
	qs_server.free()


func _test_node_in_tree() -> void:
	var s: Server = Server.new()
	s.port = 0
	s.host = "127.0.0.1"
	s.autostart = true
	var log: Array = []
	s.client_connected.connect(func(id: int) -> void: log.append(["connected", id]))
	s.client_closed.connect(func(id: int, code: int, reason: String, clean: bool) -> void:
		log.append(["closed", id, code, reason, clean]))
	s.message_received.connect(func(id: int, text: String) -> void: log.append(["text", id, text]))
	s.server_error.connect(func(e: String) -> void: log.append(["error", e]))
	t.root.add_child(s)
	await t.process_frame  # autostart is deferred past _ready
	if not t.check(
			s.is_listening() and s.get_port() > 0,
			"a node in the tree with autostart listens on port 0 -> real port %d (%s)" % [s.get_port(), log]):
		s.queue_free()
		return
	var url := "ws://127.0.0.1:%d/game?team=red" % s.get_port()
	var a := kit.client(url)
	var b := kit.client(url)
	var c := kit.client(url)
	t.check(
			await kit.wait(func() -> bool: return s.get_client_count() == 3 and a.is_open() and b.is_open() and c.is_open()),
			"three clients connect; the node processes itself")
	var ids := s.get_client_ids()
	ids.sort()
	var info := s.get_client_info(ids[0])
	t.check(
			(info.get("path") == "/game" and info.get("query") == "team=red"
					and info.get("address") == "127.0.0.1" and info.get("headers", {}).has("host")),
			"get_client_info has path, query, address, headers: %s" % info)
	# Match ids to clients: each client sends its own name.
	a.peer.send_text("a")
	b.peer.send_text("b")
	c.peer.send_text("c")
	t.check(
			await kit.wait(func() -> bool: return log.filter(func(e: Array) -> bool: return e[0] == "text").size() == 3),
			"three texts arrive")
	var id_of := {}
	for e: Array in log:
		if e[0] == "text":
			id_of[e[2]] = e[1]
	s.join_room(id_of["a"], "red")
	s.join_room(id_of["b"], "red")
	s.broadcast_text_to_room("red", "room-only", id_of["a"])
	s.broadcast_text("marker1")
	t.check(
			await kit.wait(func() -> bool: return a.has("marker1") and b.has("marker1") and c.has("marker1")),
			"marker broadcast arrives")
	t.check(
			b.has("room-only") and not a.has("room-only") and not c.has("room-only"),
			"a room broadcast reaches members except the excluded one")
	s.leave_room(id_of["b"], "red")
	s.broadcast_binary_to_room("red", PackedByteArray([7]))
	s.broadcast_text("marker2", id_of["c"])
	t.check(
			await kit.wait(func() -> bool: return a.has("marker2") and b.has("marker2")),
			"broadcast with an excluded id arrives at the others")
	t.check(not c.has("marker2"), "the excluded client does not get the broadcast")
	t.check(a.has(PackedByteArray([7])) and not b.has(PackedByteArray([7])), "leave_room takes a client out of the room")
	t.check_eq(s.disconnect_client(id_of["c"], 4002, "kicked"), OK, "disconnect_client returns OK")
	t.check(await kit.wait(func() -> bool: return c.is_closed()), "the disconnected client is closed")
	t.check_eq(c.peer.get_close_code(), 4002, "the client sees close code 4002")
	t.check(
			await kit.wait(func() -> bool:
				return log.any(func(e: Array) -> bool: return e[0] == "closed" and e[1] == id_of["c"])),
			"client_closed is emitted")
	for e: Array in log:
		if e[0] == "closed" and e[1] == id_of["c"]:
			t.check_eq(e.slice(2), [4002, "kicked", true], "client_closed carries code, reason and clean")
	var stats_seen: Array = []
	s.stats_received.connect(func(token: int, stats: Dictionary) -> void: stats_seen.append([token, stats]))
	var token := s.request_stats()
	t.check(await kit.wait(func() -> bool: return not stats_seen.is_empty()), "request_stats is answered")
	if not stats_seen.is_empty():
		t.check(
				stats_seen[0][0] == token and stats_seen[0][1].get("clients") == 2,
				"stats_received carries the token and 2 clients: %s" % [stats_seen[0]])
	t.check(
			not log.any(func(e: Array) -> bool: return e[0] == "error"),
			"no server_error: %s" % [log.filter(func(e: Array) -> bool: return e[0] == "error")])
	# Freeing the node ends the sidecar: it is sent shutdown, closes its clients with 1001 and exits
	# by itself (PROTOCOL.md: within a second).
	var pid: int = s._session.child.pid
	s.queue_free()
	t.check(
			await kit.wait(func() -> bool: return not OS.is_process_running(pid), 1500),
			"freeing the node ends the sidecar within 1.5 s")
	t.check(await kit.wait(func() -> bool: return a.is_closed() and b.is_closed()), "its clients are closed")


func _test_sidecar_death() -> void:
	var s: Server = Server.new()
	var errors: Array[String] = []
	var drops: Array = []
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	s.client_disconnected.connect(func(id: int, code: int) -> void: drops.append([id, code]))
	if not t.check(s.start(0, "127.0.0.1"), "start(0) listens"):
		s.free()
		return
	var a := kit.client("ws://127.0.0.1:%d" % s.get_port())
	t.check(await kit.wait(func() -> bool:
		s.process()
		return s.get_client_count() == 1), "a client connects")
	OS.kill(s._session.child.pid)
	t.check(await kit.wait(func() -> bool:
		s.process()
		return not s.is_listening()), "a killed sidecar is noticed")
	t.check(
			errors.size() == 1 and errors[0].contains("exited unexpectedly"),
			"server_error reports the exit: %s" % [errors])
	t.check(drops.size() == 1 and drops[0][1] == 1006, "each client is reported with 1006: %s" % [drops])
	t.check_eq(s.get_client_count(), 0, "no clients remain")
	t.check(await kit.wait(func() -> bool: return a.is_closed()), "the client's connection is gone")
	t.check(s.start(0, "127.0.0.1"), "start() works again after a crash")
	s.stop()
	s.free()


func _test_auth() -> void:
	var s: Server = Server.new()
	s.auth = true
	s.connection_requested.connect(func(id: int, info: Dictionary) -> void:
		if str(info.get("query", "")).contains("token=good"):
			s.accept_connection(id)
		else:
			s.reject_connection(id, 401, "bad token"))
	if not t.check(s.start(0, "127.0.0.1"), "start with auth listens"):
		s.free()
		return
	var good := kit.client("ws://127.0.0.1:%d/?token=good" % s.get_port())
	var bad := kit.client("ws://127.0.0.1:%d/?token=bad" % s.get_port())
	t.check(await kit.wait(func() -> bool:
		s.process()
		return good.is_open() and bad.is_closed()), "an accepted request opens, a rejected one does not")
	t.check_eq(s.get_client_count(), 1, "only the accepted request became a client")
	s.stop()
	s.free()


func _test_bad_sidecars() -> void:
	var cases: Array = [
		["res://tests/fake_sidecar_wrong_version.cjs", "version 9.9.9"],
		["res://tests/fake_sidecar_crash.cjs", "exited with code 3"],
	]
	for case: Array in cases:
		var s: Server = Server.new()
		s.sidecar_path = case[0]
		var errors: Array[String] = []
		s.server_error.connect(func(e: String) -> void: errors.append(e))
		s.forward_sidecar_logs = false
		var ok := s.start(0, "127.0.0.1")
		t.check(
				not ok and errors.size() == 1 and errors[0].contains(case[1]),
				"%s: start() fails naming '%s': %s" % [case[0].get_file(), case[1], errors])
		s.free()
	var missing: Server = Server.new()
	missing.sidecar_path = "/nonexistent/websocket-sidecar"
	var errs: Array[String] = []
	missing.server_error.connect(func(e: String) -> void: errs.append(e))
	t.check(
			not missing.start(0) and errs.size() == 1 and errs[0].contains("does not exist"),
			"a missing sidecar_path is reported: %s" % [errs])
	missing.free()


func _test_chat_example() -> void:
	var scene: PackedScene = load("res://examples/chat_server.tscn")
	var chat := scene.instantiate()
	t.root.add_child(chat)
	await t.process_frame  # autostart is deferred past _ready
	var server: Server = chat.get_node("Server")
	if not t.check(server.is_listening() and server.get_port() == 8081, "the chat example listens on 8081"):
		chat.queue_free()
		return
	var alice := kit.client("ws://127.0.0.1:8081/?name=alice&room=red")
	var bob := kit.client("ws://127.0.0.1:8081/?name=bob&room=red")
	var carol := kit.client("ws://127.0.0.1:8081/?name=carol&room=blue")
	var joined := func() -> bool:
		return alice.has("you are in #red") and bob.has("you are in #red") and carol.has("you are in #blue")
	t.check(await kit.wait(joined), "chat clients join the rooms named in their URLs")
	alice.peer.send_text("hi red")
	t.check(await kit.wait(func() -> bool: return bob.has("alice: hi red")), "a chat line reaches the room")
	carol.peer.send_text("/join red")
	t.check(await kit.wait(func() -> bool: return alice.has("* carol joined #red")), "/join announces the newcomer")
	carol.peer.send_text("/who")
	var who_listed := func(m: Variant) -> bool:
		return m is String and m.begins_with("in #red:") and m.contains("alice") and m.contains("bob")
	t.check(await kit.wait(func() -> bool: return carol.received.any(who_listed)), "/who lists the room")
	t.check(not alice.has("alice: hi red"), "the sender does not get its own line back")
	chat.queue_free()
	await t.process_frame
