extends SceneTree
## Measures the node reading 100,000 text events from its buffer and emitting
## message_received: [code]$GODOT --headless --path godot-addon --script res://tests/bench_node.gd[/code]

const Server := preload("res://addons/websocket_server/websocket_server.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")

func _initialize() -> void:
	var s: Server = Server.new()
	s._proc = Server.SidecarProcess.new()
	var count := [0]
	s.message_received.connect(func(_id: int, _m: String) -> void: count[0] += 1)
	var codec := MsgPack.new()
	var batch := PackedByteArray()
	for i: int in 100000:
		var at := batch.size()
		batch.resize(at + 4)
		codec.write_value(batch, [70, i % 1000 + 1, "x".repeat(64)])
		batch.encode_u32(at, batch.size() - at - 4)
	s._in = batch
	var start := Time.get_ticks_usec()
	s._dispatch_frames(false)
	var each := float(Time.get_ticks_usec() - start) / 100000.0
	print("node: %d text events decoded and emitted, %.2f us each" % [count[0], each])
	s.free()
	quit(0)
