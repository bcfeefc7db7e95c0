extends RefCounted
## The WebSocketServer node without a sidecar: its command encoder against the
## golden fixtures, its event dispatch (including malformed events) and its
## argument checks.

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const Runner := preload("res://tests/run_tests.gd")
const CodecTests := preload("res://tests/test_codec.gd")

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_commands_match_fixtures()
	_test_dispatch()
	_test_argument_checks()


func _fixture(name: String) -> PackedByteArray:
	return FileAccess.get_file_as_bytes(t.fixtures_dir.path_join(name + ".bin"))


# A server that believes it listens, with the clients the fixtures name.
func _listening_server() -> Server:
	var s: Server = Server.new()
	s._state = Server._State.LISTENING
	# A process object that was never spawned: the frame reader stops when _proc is null.
	s._proc = Server.SidecarProcess.new()
	for id: int in [1, 2, 5, 300]:
		s._clients[id] = {}
	s._pending_requests[1] = true
	s._pending_requests[2] = true
	return s


func _test_commands_match_fixtures() -> void:
	var s := _listening_server()
	var bytes := PackedByteArray([0, 1, 2, 0xfd, 0xfe, 0xff])
	var forty := PackedByteArray()
	for i: int in 40:
		forty.append(i)
	var calls: Array = [
		["send_text", func() -> Error: return s.send_text(1, "Welcome to the server!")],
		["send_binary", func() -> Error: return s.send_binary(300, bytes)],
		["broadcast_text", func() -> Error: return s.broadcast_text("héllo wörld, ünïcode ✓ and a string past 31 bytes")],
		["broadcast_binary", func() -> Error: return s.broadcast_binary(forty, 7)],
		["join_room", func() -> Error: return s.join_room(2, "lobby")],
		["leave_room", func() -> Error: return s.leave_room(2, "lobby")],
		["room_text", func() -> Error: return s.broadcast_text_to_room("lobby", "hi room", 3)],
		["room_binary", func() -> Error: return s.broadcast_binary_to_room("lobby", PackedByteArray([9, 8, 7]))],
		["disconnect", func() -> Error: return s.disconnect_client(5, 4001, "kicked by host")],
		["accept", func() -> Error: return s.accept_connection(1)],
		["reject", func() -> Error: return s.reject_connection(2, 403, "bad token")],
	]
	for c: Array in calls:
		s._out.clear()
		var err: Error = c[1].call()
		t.check_eq(err, OK, "%s returns OK" % c[0])
		t.check_eq(s._out, _fixture(c[0]), "the node's %s command equals %s.bin byte for byte" % [c[0], c[0]])
	s._out.clear()
	s._next_token = 9
	t.check_eq(s.request_stats(), 9, "request_stats returns its token")
	t.check_eq(s._out, _fixture("get_stats"), "the node's get_stats command equals get_stats.bin")
	s._out.clear()
	s._queue_simple(Server.Protocol.CMD_STOP)
	t.check_eq(s._out, _fixture("stop"), "the node's stop command equals stop.bin")
	s._out.clear()
	s.path = "/game"
	s.subprotocols = PackedStringArray(["game.v1", "chat"])
	s.response_headers = {"x-server": "godot"}
	s.auth = true
	s.max_messages_per_second = 200
	s.message_burst = 1000
	s._queue_start(8080, "0.0.0.0")
	t.check_eq(s._out, _fixture("start"), "the node's start command (with the fixture's options) equals start.bin")
	s.free()


func _events(s: Server) -> Array:
	var log: Array = []
	s.client_connected.connect(func(id: int) -> void: log.append(["connected", id]))
	s.client_disconnected.connect(func(id: int, code: int) -> void: log.append(["disconnected", id, code]))
	s.client_closed.connect(func(id: int, code: int, reason: String, clean: bool) -> void:
		log.append(["closed", id, code, reason, clean]))
	s.message_received.connect(func(id: int, text: String) -> void: log.append(["text", id, text]))
	s.data_received.connect(func(id: int, data: PackedByteArray) -> void: log.append(["binary", id, data]))
	s.server_error.connect(func(error: String) -> void: log.append(["error", error]))
	s.connection_requested.connect(func(id: int, info: Dictionary) -> void: log.append(["request", id, info]))
	s.error_reported.connect(func(code: String, message: String, id: int) -> void:
		log.append(["reported", code, message, id]))
	s.stats_received.connect(func(token: int, stats: Dictionary) -> void: log.append(["stats", token, stats]))
	return log


func _test_dispatch() -> void:
	var s := _listening_server()
	s._clients.clear()
	var log := _events(s)
	# Every event fixture, fed through the node's frame reader in one buffer.
	var names: Array[String] = [
		"client_connected", "text", "binary", "connection_request", "error", "stats", "pong", "client_disconnected",
	]
	for name: String in names:
		s._in.append_array(_fixture(name))
	s._dispatch_frames(false)
	var info: Dictionary = CodecTests.expected_value(JSON.parse_string(JSON.stringify({
		"address": "127.0.0.1", "port": 51234, "path": "/game", "query": "room=lobby&token=abc",
		"headers": {"host": "localhost:8080", "origin": "http://localhost", "user-agent": "fixture"}})))
	t.check_eq(log[0], ["connected", 1], "client_connected fixture -> client_connected(1)")
	t.check_eq(log[1], ["text", 1, "Echo: hello"], "text fixture -> message_received")
	t.check_eq(log[2], ["binary", 65535, PackedByteArray([0xff, 0, 0x7f, 0x80])], "binary fixture -> data_received")
	t.check_eq(log[3], ["request", 1, info], "connection_request fixture -> connection_requested")
	t.check_eq(
			log[4],
			["reported", "unknown_client", "no client with id 42 is connected", 42],
			"error fixture -> error_reported")
	t.check_eq(log[5][0], "stats", "stats fixture -> stats_received")
	t.check_eq(log[6], ["disconnected", 1, 4001], "client_disconnected fixture -> client_disconnected(1, 4001)")
	t.check_eq(
			log[7],
			["closed", 1, 4001, "bye", true],
			"client_disconnected fixture -> client_closed(1, 4001, bye, true)")
	t.check_eq(log.size(), 8, "pong and the informational unknown_client error emit nothing else")
	t.check_eq(s._in.size(), 0, "the read buffer is empty after whole frames")
	# A frame split across reads is dispatched once complete.
	log.clear()
	var frame := _fixture("text")
	s._in.append_array(frame.slice(0, 7))
	s._dispatch_frames(false)
	t.check_eq(log.size(), 0, "half a frame dispatches nothing")
	s._in.append_array(frame.slice(7))
	s._dispatch_frames(false)
	t.check_eq(log, [["text", 1, "Echo: hello"]], "the completed frame is dispatched")
	# Malformed events: a clear server_error each, never a crash.
	var codec: Server.MsgPack = Server.MsgPack.new()
	var malformed: Array = [
		[70, "one", "x"], [71, 1, "not binary"], [69], [72, 1, 1000], "not an array", [], ["x"], [3, 1, "a command"],
	]
	for value: Variant in malformed:
		log.clear()
		s._dispatch(value)
		t.check(
				log.size() == 1 and log[0][0] == "error" and str(log[0][1]).contains("sidecar sent"),
				"malformed event %s -> one server_error (%s)" % [var_to_str(value), var_to_str(log)])
	log.clear()
	s._dispatch([120, "from a newer sidecar"])
	t.check_eq(log.size(), 0, "an unknown event opcode is ignored")
	s._dispatch([73, "outbound_overflow", "client 3 stopped reading", 3])
	t.check(
			log.size() == 2 and log[1][0] == "error" and str(log[1][1]).contains("outbound_overflow"),
			"a serious sidecar error also goes to server_error")
	t.check(codec.error.is_empty(), "codec untouched")
	s.free()
	# hello with another protocol or version ends the start with a message naming both.
	var h: Server = Server.new()
	h._state = Server._State.STARTING
	h._dispatch([64, 2, "0.1.0", []])
	t.check(
			h._state == Server._State.IDLE and h._start_error.contains("protocol 2") and h._start_error.contains("speaks 1"),
			"protocol mismatch names both versions: " + h._start_error)
	h._state = Server._State.STARTING
	h._start_error = ""
	h._dispatch([64, 1, "0.2.0", ["rooms"]])
	t.check(
			h._state == Server._State.IDLE and h._start_error.contains("0.2.0") and h._start_error.contains("0.1.0"),
			"version mismatch names both versions: " + h._start_error)
	h._state = Server._State.STARTING
	h._dispatch([66, "address_in_use", "port 8080 is taken"])
	t.check(
			h._state == Server._State.IDLE and h._start_error.contains("address_in_use"),
			"start_failed keeps its code and message")
	h.free()


func _test_argument_checks() -> void:
	var s: Server = Server.new()
	t.check_eq(s.send_text(1, "x"), ERR_UNCONFIGURED, "send_text before start -> ERR_UNCONFIGURED")
	t.check_eq(s.broadcast_binary(PackedByteArray()), ERR_UNCONFIGURED, "broadcast before start -> ERR_UNCONFIGURED")
	t.check_eq(s.get_port(), 0, "get_port before start is 0")
	t.check_eq(s.get_client_ids(), [] as Array[int], "no clients before start")
	t.check(not s.is_listening(), "not listening before start")
	s.stop()
	t.check(not s.is_listening(), "stop() before start does nothing")
	s._state = Server._State.LISTENING
	s._clients[4] = {"address": "127.0.0.1"}
	t.check_eq(s.send_text(99, "x"), ERR_DOES_NOT_EXIST, "send_text to an unknown client -> ERR_DOES_NOT_EXIST")
	t.check_eq(s.disconnect_client(4, 1001), ERR_INVALID_PARAMETER, "close code 1001 is refused")
	t.check_eq(s.disconnect_client(4, 3000, "x".repeat(124)), ERR_INVALID_PARAMETER, "a 124-byte reason is refused")
	t.check_eq(s.disconnect_client(4, 4999, "x".repeat(123)), OK, "code 4999 with a 123-byte reason is accepted")
	t.check_eq(s.accept_connection(77), ERR_DOES_NOT_EXIST, "accepting an unknown request -> ERR_DOES_NOT_EXIST")
	t.check_eq(s.get_client_info(4), {"address": "127.0.0.1"}, "get_client_info returns the info")
	t.check_eq(s.get_client_info(5), {}, "get_client_info of an unknown client is empty")
	t.check_eq(s.get_client_ids(), [4] as Array[int], "get_client_ids lists the client")
	s.free()
