extends RefCounted
## The cluster from Godot: the two request commands against their fixtures, and,
## where [code]redis-server[/code] is installed, two real servers sharing one
## Redis: a room broadcast across them and the room's members through
## [method WebSocketServer.request_room_members] and
## [method WebSocketServer.request_cluster_stats].

const Runner := preload("res://tests/run_tests.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")
const CommandWriter := preload("res://addons/websocket_server/command_writer.gd")
const CommandWriterTests := preload("res://tests/test_command_writer.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")

var t: Runner
var peers: Array[WebSocketPeer] = []
var texts: Dictionary = {}


func run(runner: Runner) -> void:
	t = runner
	_test_commands_match_fixtures()
	_test_cluster_ids_on_the_fast_path()
	await _test_two_servers()


func _test_commands_match_fixtures() -> void:
	var w := CommandWriter.new()
	w.request_room_members(10, "lobby")
	t.check_eq(w.buffer, CommandWriterTests.fixture(t, "request_room_members"), "request_room_members equals its fixture")
	w.clear()
	w.request_cluster_stats(11)
	t.check_eq(w.buffer, CommandWriterTests.fixture(t, "request_cluster_stats"),
			"request_cluster_stats equals its fixture")
	var idle: Server = Server.new()
	t.check_eq(idle.request_room_members("lobby"), -1, "request_room_members returns -1 without a sidecar")
	t.check_eq(idle.request_cluster_stats(), -1, "request_cluster_stats returns -1 without a sidecar")
	idle.free()


func _test_cluster_ids_on_the_fast_path() -> void:
	var codec := MsgPack.new()
	for id: int in [(1 << 32) + 5, (3 << 32) + 300, (1 << 53) - 1]:
		var body := codec.encode([70, id, "hi"])
		t.check_eq(body[2], 0xd3, "cluster id %d is written as int64" % id)
		t.check_eq(codec.read_message(body, 0, body.size(), 70, 71), 2, "the fast path reads a message from client %d" % id)
		t.check_eq(codec.message_client_id, id, "with its id %d" % id)
	var too_big := codec.encode([70, 1 << 53, "hi"])
	t.check_eq(codec.read_message(too_big, 0, too_big.size(), 70, 71), -1, "an id of 2^53 is left to the general decoder")


func _test_two_servers() -> void:
	if OS.execute("sh", ["-c", "command -v redis-server"]) != 0:
		print("   redis-server is not installed: the live cluster check is skipped")
		return
	var redis_port := 20000 + randi() % 20000
	var redis_dir := OS.get_cache_dir().path_join("gws-test-redis-%d" % redis_port)
	DirAccess.make_dir_recursive_absolute(redis_dir)
	var redis_pid := OS.create_process("redis-server", [
		"--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", redis_dir,
		"--loglevel", "warning",
	])
	await t.create_timer(0.3).timeout
	var a := _server("redis://127.0.0.1:%d" % redis_port)
	var b := _server("redis://127.0.0.1:%d" % redis_port)
	if t.check(a.is_listening() and b.is_listening(), "two servers join one Redis and listen"):
		await _check_across(a, b)
	for server: Server in [a, b]:
		server.stop()
		server.queue_free()
	for peer: WebSocketPeer in peers:
		peer.close()
	OS.kill(redis_pid)
	DirAccess.remove_absolute(redis_dir)


func _check_across(a: Server, b: Server) -> void:
	# Keyed by server: under load b's client may be announced before a's.
	var by_server: Dictionary = {}
	a.client_connected.connect(func(id: int) -> void: by_server["a"] = id)
	b.client_connected.connect(func(id: int) -> void: by_server["b"] = id)
	_client(a.get_port())
	_client(b.get_port())
	if not t.check(await _wait(func() -> bool: return by_server.size() == 2), "a client connects to each server"):
		return
	var ids: Array[int] = [by_server["a"], by_server["b"]]
	t.check(ids[0] >> 32 > 0 and ids[1] >> 32 > 0 and ids[0] >> 32 != ids[1] >> 32,
			"client ids carry each server's node number in their high bits: %s" % [ids])
	t.check_eq(a.join_room(ids[0], "lobby"), OK, "the client of a joins the lobby")
	t.check_eq(b.join_room(ids[1], "lobby"), OK, "the client of b joins the lobby")
	# Lambdas capture locals by value: answers are kept in a Dictionary they share.
	var got: Dictionary = {"members": []}
	a.room_members_received.connect(func(_token: int, _room: String, client_ids: Array[int]) -> void:
		got["members"] = client_ids)
	var deadline := Time.get_ticks_msec() + 5000
	while got["members"].size() < 2 and Time.get_ticks_msec() < deadline:
		a.request_room_members("lobby")
		await _wait(func() -> bool: return false, 100)
	ids.sort()
	var want: Array[int] = ids
	t.check_eq(got["members"], want, "request_room_members on a lists the members of both servers")
	var token := a.request_cluster_stats()
	a.cluster_stats_received.connect(func(answer_token: int, answer: Dictionary) -> void:
		if answer_token == token:
			got["stats"] = answer)
	t.check(await _wait(func() -> bool: return got.has("stats")), "cluster_stats_received answers")
	var stats: Dictionary = got.get("stats", {})
	t.check(stats.get("servers") == 2 and stats.get("clients") == 2, "two servers with two clients: %s" % [stats])
	t.check_eq(a.broadcast_text_to_room("lobby", "across"), OK, "a room broadcast from a returns OK")
	t.check(await _wait(func() -> bool: return texts.get(1, []).has("across")), "the lobby member on b gets it")


func _server(url: String) -> Server:
	var server: Server = Server.new()
	server.cluster_url = url
	server.heartbeat_interval_ms = 0
	t.root.add_child(server)
	server.start(0, "127.0.0.1")
	return server


func _client(port: int) -> void:
	var peer := WebSocketPeer.new()
	peer.connect_to_url("ws://127.0.0.1:%d" % port)
	peers.append(peer)


# Waits (polling every client each frame) until cond is true or timeout_ms passes.
func _wait(cond: Callable, timeout_ms: int = 5000) -> bool:
	var deadline := Time.get_ticks_msec() + timeout_ms
	while Time.get_ticks_msec() <= deadline:
		for i: int in peers.size():
			peers[i].poll()
			while peers[i].get_available_packet_count() > 0:
				var text := peers[i].get_packet().get_string_from_utf8()
				if not texts.has(i):
					texts[i] = []
				texts[i].append(text)
		if cond.call():
			return true
		await t.process_frame
	return false
