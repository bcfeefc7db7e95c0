extends SceneTree
## Measures the node's hot paths: its event reader taking 100,000 text events
## from its buffer and emitting message_received, and its command writer
## encoding 100,000 send_text commands into one buffer:
## [code]$GODOT --headless --path godot-addon --script res://tests/bench_node.gd[/code]

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")

const N: int = 100000


func _initialize() -> void:
	var s: Server = Server.new()
	var session := SidecarSession.new(s)
	var count := [0]
	s.message_received.connect(func(_id: int, _m: String) -> void: count[0] += 1)
	var codec := MsgPack.new()
	var batch := PackedByteArray()
	for i: int in N:
		var at := batch.size()
		batch.resize(at + 4)
		codec.write_value(batch, [70, i % 1000 + 1, "x".repeat(64)])
		batch.encode_u32(at, batch.size() - at - 4)
	session.events.buffer = batch.duplicate()
	var start := Time.get_ticks_usec()
	session.events.read_frames(session, false)
	var each := float(Time.get_ticks_usec() - start) / N
	print("node: %d text events decoded and emitted, %.2f us each" % [count[0], each])
	# The same with a process() budget (a deadline an hour away): the cost of checking it.
	session.events.buffer = batch.duplicate()
	start = Time.get_ticks_usec()
	session.events.read_frames(session, false, start + 3600 * 1000000)
	each = float(Time.get_ticks_usec() - start) / N
	print("node: the same under a budget, %.2f us each" % each)
	var text := "y".repeat(64)
	start = Time.get_ticks_usec()
	for i: int in N:
		session.commands.send_text(i % 1000 + 1, text)
	each = float(Time.get_ticks_usec() - start) / N
	print("node: %d send_text commands encoded (%d bytes), %.2f us each" % [N, session.commands.size(), each])
	s.free()
	quit(0)
