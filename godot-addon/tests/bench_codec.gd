extends SceneTree
## Measures ways of reading big-endian integers from a PackedByteArray, and
## the codec's decode and encode costs. Not part of the test run:
## [code]$GODOT --headless --path godot-addon --script res://tests/bench_codec.gd[/code]

const MsgPack := preload("res://addons/websocket_server/msgpack.gd")
const N: int = 200000


func _initialize() -> void:
	var buf := PackedByteArray()
	buf.resize(N * 4 + 8)
	for i: int in buf.size():
		buf[i] = (i * 31) & 0xff
	var sink := 0

	var start := Time.get_ticks_usec()
	for i: int in N:
		var p := i * 4
		sink += (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]
	_report("u32 composed from 4 indexed bytes", start)

	start = Time.get_ticks_usec()
	for i: int in N:
		var p := i * 4
		var s := buf.slice(p, p + 4)
		s.reverse()
		sink += s.decode_u32(0)
	_report("u32 via slice() + reverse() + decode_u32", start)

	var scratch := PackedByteArray()
	scratch.resize(8)
	start = Time.get_ticks_usec()
	for i: int in N:
		var p := i * 4
		scratch[0] = buf[p + 3]
		scratch[1] = buf[p + 2]
		scratch[2] = buf[p + 1]
		scratch[3] = buf[p]
		sink += scratch.decode_u32(0)
	_report("u32 via 4-byte copy into a scratch array + decode_u32", start)

	start = Time.get_ticks_usec()
	for i: int in N:
		var v := buf.decode_u32(i * 4)
		sink += ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | ((v >> 24) & 0xff)
	_report("u32 via decode_u32 + shift/mask byte swap", start)

	start = Time.get_ticks_usec()
	for i: int in N:
		var p := i * 4
		sink += (buf[p] << 8) | buf[p + 1]
	_report("u16 composed from 2 indexed bytes", start)

	start = Time.get_ticks_usec()
	for i: int in N:
		var v := buf.decode_u16(i * 4)
		sink += ((v & 0xff) << 8) | (v >> 8)
	_report("u16 via decode_u16 + byte swap", start)

	var codec := MsgPack.new()
	var frame := codec.encode([70, 12, "x".repeat(64)])
	start = Time.get_ticks_usec()
	for i: int in N:
		var v: Variant = codec.decode(frame, 0, frame.size())
		sink += v[1]
	_report("decode [70, id, 64-byte str8]", start)

	var out := PackedByteArray()
	var text := "y".repeat(64)
	start = Time.get_ticks_usec()
	for i: int in N:
		var at := out.size()
		out.resize(at + 6)
		out[at + 4] = 0x93
		out[at + 5] = 3
		codec.write_int(out, 12)
		codec.write_str(out, text)
		out.encode_u32(at, out.size() - at - 4)
	_report("encode send_text(12, 64 bytes) into one growing buffer", start)
	print("(sink %d)" % sink)
	quit(0)


func _report(what: String, start: int) -> void:
	print("%-60s %.3f us" % [what, float(Time.get_ticks_usec() - start) / N])
