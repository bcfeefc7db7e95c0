extends RefCounted
## The WebSocketServer node through its public API, against a stand-in
## sidecar (fake_sidecar_replay.cjs) that reports clients and records what it
## receives: the commands on the wire against the golden fixtures, the
## handshake failures and the argument checks.

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const CommandWriter := preload("res://addons/websocket_server/command_writer.gd")
const Runner := preload("res://tests/run_tests.gd")
const WriterTests := preload("res://tests/test_command_writer.gd")

const FAKE_SIDECAR: String = "res://tests/fake_sidecar_replay.cjs"

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_before_start()
	_test_commands_on_the_wire()
	_test_handshake_failures()


# A node started on the stand-in, with the clients it reports (1, 2, 5, 300, 4)
# and requests 1 and 2 pending; null when it did not start.
func _started_server(record: String) -> Server:
	OS.set_environment("FAKE_SIDECAR_RECORD", record)
	var s: Server = Server.new()
	s.sidecar_path = FAKE_SIDECAR
	s.forward_sidecar_logs = false
	s.path = "/game"
	s.subprotocols = PackedStringArray(["game.v1", "chat"])
	s.response_headers = {"x-server": "godot"}
	s.auth = true
	s.max_messages_per_second = 200
	s.message_burst = 1000
	var started := s.start(8080, "0.0.0.0")
	OS.unset_environment("FAKE_SIDECAR_RECORD")
	if not t.check(started, "the node starts on the stand-in sidecar"):
		s.free()
		return null
	s.process()
	return s


func _test_before_start() -> void:
	var s: Server = Server.new()
	t.check_eq(s.send_text(1, "x"), ERR_UNCONFIGURED, "send_text before start -> ERR_UNCONFIGURED")
	t.check_eq(s.broadcast_binary(PackedByteArray()), ERR_UNCONFIGURED, "broadcast before start -> ERR_UNCONFIGURED")
	t.check_eq(s.get_port(), 0, "get_port before start is 0")
	t.check_eq(s.get_client_ids(), [] as Array[int], "no clients before start")
	t.check_eq(s.request_stats(), -1, "request_stats before start is -1")
	t.check(not s.is_listening(), "not listening before start")
	s.stop()
	t.check(not s.is_listening(), "stop() before start does nothing")
	s.free()


func _test_commands_on_the_wire() -> void:
	var record := OS.get_cache_dir().path_join("websocket_server_test_%d.bin" % OS.get_process_id())
	DirAccess.remove_absolute(record)
	var s := _started_server(record)
	if s == null:
		return
	t.check(s.is_listening(), "the node listens")
	t.check_eq(s.get_port(), 8080, "get_port is the port of listening")
	t.check_eq(s.get_client_ids(), [1, 2, 5, 300, 4] as Array[int], "get_client_ids lists the clients")
	t.check_eq(s.get_client_info(4), {"address": "127.0.0.1"}, "get_client_info returns the info")
	t.check_eq(s.get_client_info(6), {}, "get_client_info of an unknown client is empty")
	# The node's calls, in the order of WriterTests.fixture_calls, and the frames they must write.
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
	var expected := WriterTests.fixture(t, "start")
	for c: Array in calls:
		t.check_eq(c[1].call(), OK, "%s returns OK" % c[0])
		expected.append_array(WriterTests.fixture(t, c[0]))
	t.check_eq(s.request_stats(), 1, "request_stats returns its token")
	t.check_eq(s.request_stats(), 2, "each request_stats gets a new token")
	var writer := CommandWriter.new()
	writer.get_stats(1)
	writer.get_stats(2)
	expected.append_array(writer.buffer)
	# Argument checks while listening.
	t.check_eq(s.send_text(99, "x"), ERR_DOES_NOT_EXIST, "send_text to an unknown client -> ERR_DOES_NOT_EXIST")
	t.check_eq(s.disconnect_client(4, 1001), ERR_INVALID_PARAMETER, "close code 1001 is refused")
	t.check_eq(s.disconnect_client(4, 3000, "x".repeat(124)), ERR_INVALID_PARAMETER, "a 124-byte reason is refused")
	t.check_eq(s.disconnect_client(4, 4999, "x".repeat(123)), OK, "code 4999 with a 123-byte reason is accepted")
	writer.clear()
	writer.disconnect_client(4, 4999, "x".repeat(123))
	expected.append_array(writer.buffer)
	t.check_eq(s.accept_connection(77), ERR_DOES_NOT_EXIST, "accepting an unknown request -> ERR_DOES_NOT_EXIST")
	t.check_eq(s.accept_connection(1), ERR_DOES_NOT_EXIST, "an answered request is no longer pending")
	t.check_eq(s.join_room(1, ""), ERR_INVALID_PARAMETER, "an empty room name is refused")
	var pid: int = s._session.child.pid
	s.stop()
	t.check(not s.is_listening(), "stop() ends the run")
	t.check_eq(s.get_client_count(), 0, "stop() drops the clients")
	# stop() ends the run with shutdown (PROTOCOL.md: stdin EOF is not reliable) and does not wait
	# for the sidecar, which exits on it once it has recorded everything.
	var deadline := Time.get_ticks_msec() + 2000
	while OS.is_process_running(pid) and Time.get_ticks_msec() < deadline:
		OS.delay_msec(5)
	expected.append_array(WriterTests.fixture(t, "shutdown"))
	t.check_eq(FileAccess.get_file_as_bytes(record), expected,
			"the sidecar received start.bin, the fixtures of every call, get_stats and shutdown.bin, byte for byte")
	DirAccess.remove_absolute(record)
	s.free()


func _test_handshake_failures() -> void:
	# hello with another protocol or version, or start_failed, ends the start with a message naming both.
	var cases: Array = [
		["FAKE_SIDECAR_HELLO", "2,0.1.0", ["protocol 2", "speaks 1"], "protocol mismatch names both versions"],
		["FAKE_SIDECAR_HELLO", "1,0.2.0", ["0.2.0", "0.1.0"], "version mismatch names both versions"],
		["FAKE_SIDECAR_START_FAILED", "address_in_use", ["address_in_use", "simulated failure"],
				"start_failed keeps its code and message"],
	]
	for c: Array in cases:
		OS.set_environment(c[0], c[1])
		var s: Server = Server.new()
		s.sidecar_path = FAKE_SIDECAR
		var errors: Array[String] = []
		s.server_error.connect(func(e: String) -> void: errors.append(e))
		var started := s.start(0, "127.0.0.1")
		OS.unset_environment(c[0])
		var message := errors[0] if errors.size() == 1 else str(errors)
		t.check(not started and not s.is_listening() and (c[2] as Array).all(func(w: String) -> bool:
				return message.contains(w)), "%s: %s" % [c[3], message])
		s.free()
