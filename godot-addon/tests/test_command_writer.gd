extends RefCounted
## The command writer against the golden fixtures: every command of
## PROTOCOL.md, byte for byte, appended to one buffer.

const CommandWriter := preload("res://addons/websocket_server/command_writer.gd")
const Runner := preload("res://tests/run_tests.gd")

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_commands_match_fixtures()
	_test_one_growing_buffer()


## The fixture file [param name].bin.
static func fixture(runner: Runner, name: String) -> PackedByteArray:
	return FileAccess.get_file_as_bytes(runner.fixtures_dir.path_join(name + ".bin"))


## The options of the start fixture, as the node sends them.
static func fixture_start_options() -> Dictionary:
	return {
		"port": 8080, "host": "0.0.0.0", "path": "/game", "max_message_size": 1048576, "max_clients": 0,
		"handshake_timeout_ms": 5000, "heartbeat_interval_ms": 30000, "heartbeat_timeout_ms": 10000,
		"subprotocols": PackedStringArray(["game.v1", "chat"]), "response_headers": {"x-server": "godot"},
		"allowed_origins": PackedStringArray(), "permessage_deflate": false, "tls_cert_path": "", "tls_key_path": "",
		"auth": true, "auth_timeout_ms": 5000, "max_outbound_buffer": 4194304, "max_messages_per_second": 200,
		"message_burst": 1000, "close_timeout_ms": 1000, "max_pending_requests": 1000, "max_inbound_total": 67108864,
		"max_queued_events": 16777216, "cluster_url": "", "cluster_presence_ttl_ms": 15000, "metrics_port": 0,
		"metrics_host": "127.0.0.1", "multiplayer_peer_ids": false,
	}


## What the node's commands in test_node.gd write, in order (the same calls as here).
static func fixture_calls(w: CommandWriter) -> Array:
	var bytes := PackedByteArray([0, 1, 2, 0xfd, 0xfe, 0xff])
	var forty := PackedByteArray()
	for i: int in 40:
		forty.append(i)
	return [
		["send_text", func() -> void: w.send_text(1, "Welcome to the server!")],
		["send_binary", func() -> void: w.send_binary(300, bytes)],
		["broadcast_text", func() -> void: w.broadcast_text("héllo wörld, ünïcode ✓ and a string past 31 bytes", 0)],
		["broadcast_binary", func() -> void: w.broadcast_binary(forty, 7)],
		["join_room", func() -> void: w.join_room(2, "lobby")],
		["leave_room", func() -> void: w.leave_room(2, "lobby")],
		["room_text", func() -> void: w.room_text("lobby", "hi room", 3)],
		["room_binary", func() -> void: w.room_binary("lobby", PackedByteArray([9, 8, 7]), 0)],
		["disconnect", func() -> void: w.disconnect_client(5, 4001, "kicked by host")],
		["accept", func() -> void: w.accept(1, "")],
		["reject", func() -> void: w.reject(2, 403, "bad token")],
		["ping", func() -> void: w.ping(70000)],
		["get_stats", func() -> void: w.get_stats(9)],
		["stop", func() -> void: w.stop()],
	]


func _test_commands_match_fixtures() -> void:
	var w := CommandWriter.new()
	for c: Array in fixture_calls(w):
		w.clear()
		c[1].call()
		t.check_eq(w.buffer, fixture(t, c[0]), "the %s command equals %s.bin byte for byte" % [c[0], c[0]])
	w.clear()
	t.check_eq(w.start(fixture_start_options()), "", "the start options encode")
	t.check_eq(w.buffer, fixture(t, "start"), "the start command (with the fixture's options) equals start.bin")
	w.clear()
	t.check(not w.start({"port": Vector2.ZERO}).is_empty(), "an option that msgpack cannot hold is reported")


func _test_one_growing_buffer() -> void:
	var w := CommandWriter.new()
	var expected := PackedByteArray()
	for c: Array in fixture_calls(w):
		c[1].call()
		expected.append_array(fixture(t, c[0]))
	t.check_eq(w.buffer, expected, "commands append to one buffer, frame after frame")
	t.check_eq(w.size(), expected.size(), "size() counts the waiting bytes")
	w.clear()
	t.check_eq(w.size(), 0, "clear() empties the buffer")
