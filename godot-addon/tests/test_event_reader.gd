extends RefCounted
## The event reader, fed bytes directly: frame splitting, the fast path, shape
## checks of every event and dispatch through the session to the node's signals.

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")
const Runner := preload("res://tests/run_tests.gd")
const CodecTests := preload("res://tests/test_codec.gd")
const WriterTests := preload("res://tests/test_command_writer.gd")

## A stand-in child for a session waiting for its handshake: it swallows stdin.
const STAND_IN_ARGS: PackedStringArray = ["-c", "cat > /dev/null"]

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_fixtures_and_frames()
	_test_fast_path_forms()
	_test_read_message()
	_test_malformed()
	_test_handshake()


## Records the node's signals as arrays, in order.
static func record_signals(s: Server) -> Array:
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


func _feed(session: SidecarSession, bytes: PackedByteArray) -> void:
	session.events.buffer.append_array(bytes)
	session.events.read_frames(session, false)


func _frame(value: Variant) -> PackedByteArray:
	var body := MsgPack.new().encode(value)
	var out := PackedByteArray()
	out.resize(4)
	out.encode_u32(0, body.size())
	out.append_array(body)
	return out


func _test_fixtures_and_frames() -> void:
	var s: Server = Server.new()
	var session := SidecarSession.new(s)
	var log := record_signals(s)
	# Every event fixture, fed through the reader in one buffer.
	var all := PackedByteArray()
	for name: String in ["client_connected", "text", "binary", "connection_request", "error", "stats", "pong",
			"client_disconnected"]:
		all.append_array(WriterTests.fixture(t, name))
	_feed(session, all)
	var info: Dictionary = CodecTests.expected_value(JSON.parse_string(JSON.stringify({
		"address": "127.0.0.1", "port": 51234, "path": "/game", "query": "room=lobby&token=abc",
		"headers": {"host": "localhost:8080", "origin": "http://localhost", "user-agent": "fixture"}})))
	t.check_eq(log[0], ["connected", 1], "client_connected fixture -> client_connected(1)")
	t.check_eq(log[1], ["text", 1, "Echo: hello"], "text fixture -> message_received")
	t.check_eq(log[2], ["binary", 65535, PackedByteArray([0xff, 0, 0x7f, 0x80])], "binary fixture -> data_received")
	t.check_eq(log[3], ["request", 1, info], "connection_request fixture -> connection_requested")
	t.check_eq(log[4], ["reported", "unknown_client", "no client with id 42 is connected", 42],
			"error fixture -> error_reported")
	t.check_eq(log[5][0], "stats", "stats fixture -> stats_received")
	t.check_eq(log[6], ["disconnected", 1, 4001], "client_disconnected fixture -> client_disconnected(1, 4001)")
	t.check_eq(log[7], ["closed", 1, 4001, "bye", true],
			"client_disconnected fixture -> client_closed(1, 4001, bye, true)")
	t.check_eq(log.size(), 8, "pong and the informational unknown_client error emit nothing else")
	t.check_eq(session.events.buffer.size(), 0, "the read buffer is empty after whole frames")
	t.check_eq(session.pending_requests.keys(), [1], "connection_request keeps the request pending")
	# A frame split across reads is dispatched once complete.
	log.clear()
	var frame := WriterTests.fixture(t, "text")
	_feed(session, frame.slice(0, 7))
	t.check_eq(log.size(), 0, "half a frame dispatches nothing")
	_feed(session, frame.slice(7))
	t.check_eq(log, [["text", 1, "Echo: hello"]], "the completed frame is dispatched")
	log.clear()
	_feed(session, PackedByteArray([0, 0, 0, 0]))
	t.check(log.size() == 1 and str(log[0][1]).contains("impossible frame length 0"), "a zero length is fatal: %s" % [log])
	s.free()


func _test_fast_path_forms() -> void:
	var s: Server = Server.new()
	var session := SidecarSession.new(s)
	var log := record_signals(s)
	var long_text := "é".repeat(40000)
	var blob := PackedByteArray()
	blob.resize(70000)
	var cases: Array = [
		[[70, 0, ""], ["text", 0, ""]], [[70, 127, "a"], ["text", 127, "a"]], [[70, 128, "x".repeat(31)],
		["text", 128, "x".repeat(31)]], [[70, 65536, "y".repeat(300)], ["text", 65536, "y".repeat(300)]],
		[[70, 4294967295, long_text], ["text", 4294967295, long_text]], [[71, 3, PackedByteArray()],
		["binary", 3, PackedByteArray()]], [[71, 70000, blob], ["binary", 70000, blob]],
		# Shapes the fast path leaves to the general decoder, which reads them the same.
		[[70, 1, "tail", "extra"], ["text", 1, "tail"]],
	]
	for c: Array in cases:
		log.clear()
		_feed(session, _frame(c[0]))
		t.check_eq(log, [c[1]], "event %s" % var_to_str(c[0]).left(60))
	s.free()


func _test_read_message() -> void:
	var codec := MsgPack.new()
	# Body hex -> payload length and client id, or -1 for shapes left to the general decoder.
	var cases: Array = [
		["9346 01 a3 616263", 3, 1], ["9346 cc80 a0", 0, 128], ["9346 cd0100 d903 616263", 3, 256],
		["9347 ce00010000 c402 0102", 2, 65536], ["9347 05 c50002 0102", 2, 5], ["9346 05 db00000001 61", 1, 5],
		["9346 01 a3 6162", -1, 0], ["9346 01 a3 61626364", -1, 0], ["9346 01 c401 61", -1, 0],
		["9347 01 a1 61", -1, 0], ["9346 ff a1 61", -1, 0], ["9346 cd01 a0", -1, 0], ["9446 01 a1 61", -1, 0],
		["9345 01 a1 61", -1, 0], ["9346 01 d9", -1, 0], ["9346 01", -1, 0],
	]
	for c: Array in cases:
		var body := (c[0] as String).replace(" ", "").hex_decode()
		var n := codec.read_message(body, 0, body.size(), 70, 71)
		t.check(n == c[1] and (n < 0 or codec.message_client_id == c[2]),
				"read_message %s -> %d, client %d (got %d, %d)" % [c[0], c[1], c[2], n, codec.message_client_id])


func _test_malformed() -> void:
	var s: Server = Server.new()
	var session := SidecarSession.new(s)
	var log := record_signals(s)
	# Malformed events: a clear server_error each, never a crash.
	var malformed: Array = [
		[70, "one", "x"], [71, 1, "not binary"], [69], [72, 1, 1000], "not an array", [], ["x"], [3, 1, "a command"],
	]
	for value: Variant in malformed:
		log.clear()
		session.events.dispatch(session, value)
		t.check(
				log.size() == 1 and log[0][0] == "error" and str(log[0][1]).contains("sidecar sent"),
				"malformed event %s -> one server_error (%s)" % [var_to_str(value), var_to_str(log)])
	log.clear()
	_feed(session, _frame([71, 1, "not binary"]))
	t.check(log.size() == 1 and str(log[0][1]).contains("binary event of the wrong shape"),
			"a wrong shape fed as bytes is named: %s" % [log])
	log.clear()
	session.events.dispatch(session, [120, "from a newer sidecar"])
	t.check_eq(log.size(), 0, "an unknown event opcode is ignored")
	session.events.dispatch(session, [73, "outbound_overflow", "client 3 stopped reading", 3])
	t.check(
			log.size() == 2 and log[1][0] == "error" and str(log[1][1]).contains("outbound_overflow"),
			"a serious sidecar error also goes to server_error")
	log.clear()
	_feed(session, PackedByteArray([2, 0, 0, 0, 0x91, 0xc1]))
	t.check(log.size() == 1 and str(log[0][1]).contains("not valid MessagePack"), "a corrupt frame is fatal: %s" % [log])
	s.free()


func _test_handshake() -> void:
	var s: Server = Server.new()
	var session := SidecarSession.new(s)
	var started: Array = []
	s.server_started.connect(func(p: int) -> void: started.append(p))
	if not t.check_eq(session.spawn("/bin/sh", STAND_IN_ARGS, false), "", "a stand-in child spawns"):
		s.free()
		return
	t.check(session.is_starting(), "a spawned session waits for its handshake")
	_feed(session, WriterTests.fixture(t, "hello") + WriterTests.fixture(t, "listening"))
	t.check_eq(session.state, SidecarSession.State.LISTENING, "hello then listening: the session listens")
	t.check_eq(started, [8080], "listening -> server_started with the real port")
	t.check_eq(session.capabilities, PackedStringArray(["tls", "permessage-deflate", "auth", "rooms", "stats"]),
			"hello's capabilities are kept")
	_feed(session, WriterTests.fixture(t, "listening"))
	t.check_eq(started.size(), 1, "a second listening is ignored")
	session.teardown(false)
	t.check(session.child == null and session.state == SidecarSession.State.IDLE, "teardown ends the child")
	s.free()
