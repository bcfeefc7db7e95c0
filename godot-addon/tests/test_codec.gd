extends RefCounted
## The GDScript MessagePack codec against protocol/fixtures, every header form,
## a seeded fuzz of the decoder, and a throughput measurement.

const MsgPack := preload("res://addons/websocket_server/msgpack.gd")
const Runner := preload("res://tests/run_tests.gd")
const Protocol := preload("res://addons/websocket_server/protocol.gd")

## Seed of the fuzz test; change it to explore, keep it fixed in CI.
const FUZZ_SEED: int = 20261123

var t: Runner
var codec: MsgPack = MsgPack.new()


func run(runner: Runner) -> void:
	t = runner
	_test_fixtures()
	_test_constants()
	_test_header_forms()
	_test_round_trips()
	_test_truncations()
	_test_fuzz()
	_test_speed()


## Turns a fixtures.json value into the Variant the decoder must produce:
## integral numbers become int, {"$bin": hex} becomes PackedByteArray.
static func expected_value(json: Variant) -> Variant:
	match typeof(json):
		TYPE_FLOAT:
			var f: float = json
			return int(f) if f == floorf(f) and absf(f) < 9.0e15 else f
		TYPE_ARRAY:
			var out := []
			for item: Variant in json:
				out.append(expected_value(item))
			return out
		TYPE_DICTIONARY:
			if json.size() == 1 and json.has("$bin"):
				return str(json["$bin"]).hex_decode()
			var out := {}
			for key: Variant in json:
				out[key] = expected_value(json[key])
			return out
	return json


func _frame(body: PackedByteArray) -> PackedByteArray:
	var frame := PackedByteArray()
	frame.resize(4)
	frame.encode_u32(0, body.size())
	frame.append_array(body)
	return frame


func _test_fixtures() -> void:
	var json_path: String = t.fixtures_dir.path_join("fixtures.json")
	if not t.check(FileAccess.file_exists(json_path), "fixtures.json exists at %s (pass --fixtures=<dir>)" % json_path):
		return
	var list: Variant = JSON.parse_string(FileAccess.get_file_as_string(json_path))
	if not t.check(list is Array and not list.is_empty(), "fixtures.json holds a non-empty array"):
		return
	var names_seen := 0
	for entry: Dictionary in list:
		var name: String = entry["name"]
		var bin_path: String = t.fixtures_dir.path_join(name + ".bin")
		var bytes := FileAccess.get_file_as_bytes(bin_path)
		if not t.check(bytes.size() > 4, "%s.bin exists and holds a frame" % name):
			continue
		names_seen += 1
		var expected: Variant = expected_value(entry["value"])
		t.check_eq(bytes.decode_u32(0), bytes.size() - 4, "%s.bin: length prefix matches its body" % name)
		var decoded: Variant = codec.decode(bytes, 4, bytes.size())
		t.check(codec.error.is_empty(), "%s.bin decodes without error (%s)" % [name, codec.error])
		t.check_eq(decoded, expected, "%s.bin decodes to the fixtures.json value" % name)
		# Both directions are encoded: commands are what the addon sends, and
		# events must round-trip through the same smallest-header rules.
		var encoded := _frame(codec.encode(expected))
		t.check_eq(encoded, bytes, "%s: encoding the fixtures.json value gives %s.bin byte for byte" % [name, name])
		var opcode: int = expected[0]
		if entry["direction"] == "command":
			t.check(
					opcode >= 1 and opcode <= 63 and Protocol.COMMAND_NAMES.get(opcode) == name,
					"%s: command opcode %d matches protocol.gd" % [name, opcode])
		else:
			t.check(
					opcode >= 64 and opcode <= 127 and Protocol.EVENT_NAMES.get(opcode) == name,
					"%s: event opcode %d matches protocol.gd" % [name, opcode])
	t.check_eq(
			names_seen,
			Protocol.COMMAND_NAMES.size() + Protocol.EVENT_NAMES.size(),
			"one fixture per command and event")


func _test_constants() -> void:
	var ts_path: String = t.fixtures_dir.path_join("../constants.ts").simplify_path()
	if not t.check(FileAccess.file_exists(ts_path), "protocol/constants.ts exists at %s" % ts_path):
		return
	var ts := FileAccess.get_file_as_string(ts_path)
	var protocol_script: Script = Protocol
	var gd_constants := protocol_script.get_script_constant_map()
	var regex := RegEx.create_from_string("\\b([A-Z_]+): (\\d+),")
	var found := 0
	for m: RegExMatch in regex.search_all(ts):
		var key := m.get_string(1)
		var value := m.get_string(2).to_int()
		var gd_name := ("CMD_" if value < 64 else "EVT_") + key
		t.check_eq(gd_constants.get(gd_name), value, "protocol.gd %s equals constants.ts %s" % [gd_name, key])
		found += 1
	t.check_eq(found, 34, "constants.ts lists 18 commands and 16 events")
	var codes := RegEx.create_from_string("\\b([A-Z_]+): '([a-z_]+)',")
	for m: RegExMatch in codes.search_all(ts):
		t.check_eq(
				gd_constants.get("ERR_" + m.get_string(1)),
				m.get_string(2),
				"protocol.gd ERR_%s matches constants.ts" % m.get_string(1))
	t.check(ts.contains("PROTOCOL_VERSION = %d;" % Protocol.PROTOCOL_VERSION), "protocol versions match")
	t.check(
			ts.contains("MAX_FRAME_LENGTH = 256 * 1024 * 1024;") and Protocol.MAX_FRAME_LENGTH == 268435456,
			"frame limits match")


func _decode_hex(hex: String) -> Variant:
	var bytes := hex.replace(" ", "").hex_decode()
	return codec.decode(bytes, 0, bytes.size())


func _test_header_forms() -> void:
	# Every header form the protocol allows, including forms a smallest-header
	# encoder never writes (a str32 holding two bytes must still be read).
	var cases: Array = [
		["c0", null], ["c2", false], ["c3", true],
		["00", 0], ["7f", 127], ["ff", -1], ["e0", -32],
		["cc 80", 128], ["cc ff", 255], ["cd 01 00", 256], ["cd ff ff", 65535],
		["ce 00 01 00 00", 65536], ["ce ff ff ff ff", 4294967295],
		["cf 00 00 00 01 00 00 00 00", 4294967296], ["cf 7f ff ff ff ff ff ff ff", 9223372036854775807],
		["d0 df", -33], ["d0 80", -128], ["d1 ff 7f", -129], ["d1 80 00", -32768],
		["d2 ff ff 7f ff", -32769], ["d2 80 00 00 00", -2147483648],
		["d3 ff ff ff ff 7f ff ff ff", -2147483649], ["d3 80 00 00 00 00 00 00 00", -9223372036854775807 - 1],
		["cc 05", 5], ["cd 00 05", 5], ["ce 00 00 00 05", 5], ["d0 05", 5], ["d1 00 05", 5], ["d2 00 00 00 05", 5],
		["ca 3f c0 00 00", 1.5], ["ca c0 20 00 00", -2.5], ["cb 3f f8 00 00 00 00 00 00", 1.5],
		["cb 40 09 21 fb 54 44 2d 18", PI],
		["a0", ""], ["a3 61 62 63", "abc"], ["d9 03 61 62 63", "abc"], ["da 00 03 61 62 63", "abc"],
		["db 00 00 00 03 61 62 63", "abc"], ["a2 c3 a9", "é"],
		["c4 00", PackedByteArray()], ["c4 02 00 ff", PackedByteArray([0, 255])],
		["c5 00 02 00 ff", PackedByteArray([0, 255])], ["c6 00 00 00 02 00 ff", PackedByteArray([0, 255])],
		["90", []], ["92 01 a1 78", [1, "x"]], ["dc 00 02 01 02", [1, 2]], ["dd 00 00 00 02 01 02", [1, 2]],
		["80", {}], ["81 a1 6b 01", {"k": 1}], ["de 00 01 a1 6b 01", {"k": 1}],
		["df 00 00 00 01 a1 6b 91 c0", {"k": [null]}],
	]
	for c: Array in cases:
		var value: Variant = _decode_hex(c[0])
		t.check(codec.error.is_empty(), "decode %s: no error (%s)" % [c[0], codec.error])
		t.check_eq(value, c[1], "decode %s" % c[0])
	# Smallest headers on encode.
	var enc: Array = [
		[127, "7f"], [128, "cc80"], [255, "ccff"], [256, "cd0100"], [65535, "cdffff"], [65536, "ce00010000"],
		[4294967295, "ceffffffff"], [4294967296, "d30000000100000000"], [-1, "ff"], [-32, "e0"], [-33, "d0df"],
		[-128, "d080"], [-129, "d1ff7f"], [-32768, "d18000"], [-32769, "d2ffff7fff"],
		[-2147483648, "d280000000"], [-2147483649, "d3ffffffff7fffffff"], [1.5, "cb3ff8000000000000"],
		["", "a0"], [null, "c0"], [true, "c3"], [[], "90"], [{}, "80"],
	]
	for c: Array in enc:
		t.check_eq(codec.encode(c[0]).hex_encode(), c[1], "encode %s" % var_to_str(c[0]))
	var sizes: Array = [[31, "bf"], [32, "d9"], [255, "d9"], [256, "da"], [65535, "da"], [65536, "db"]]
	for s: Array in sizes:
		var text := "x".repeat(s[0])
		var out := codec.encode(text)
		t.check_eq(out.slice(0, 1).hex_encode(), s[1], "a %d-byte string gets header %s" % [s[0], s[1]])
		t.check_eq(codec.decode(out, 0, out.size()), text, "a %d-byte string round-trips" % s[0])
	for n: int in [0, 255, 256, 65535, 65536]:
		var data := PackedByteArray()
		data.resize(n)
		var out := codec.encode(data)
		var head := "c4" if n <= 255 else ("c5" if n <= 65535 else "c6")
		t.check_eq(out.slice(0, 1).hex_encode(), head, "%d bytes of binary get header %s" % [n, head])
		t.check_eq(codec.decode(out, 0, out.size()), data, "%d bytes of binary round-trip" % n)
	for n: int in [15, 16, 65535, 65536]:
		var arr := []
		arr.resize(n)
		arr.fill(1)
		var out := codec.encode(arr)
		var head := "9f" if n == 15 else ("dc" if n <= 65535 else "dd")
		t.check_eq(out.slice(0, 1).hex_encode(), head, "an array of %d gets header %s" % [n, head])
		t.check_eq(codec.decode(out, 0, out.size()), arr, "an array of %d round-trips" % n)
		var map := {}
		for i: int in mini(n, 70000):
			map["k%d" % i] = i
		out = codec.encode(map)
		head = "8f" if n == 15 else ("de" if n <= 65535 else "df")
		t.check_eq(out.slice(0, 1).hex_encode(), head, "a map of %d gets header %s" % [n, head])
		t.check_eq(codec.decode(out, 0, out.size()), map, "a map of %d round-trips" % n)
	# Refused forms, each with a clear error.
	var bad: Array = [
		["c1", "never used"], ["d4 01 02", "extension"], ["c7 01 01 00", "extension"],
		["d8 01" + " 00".repeat(16), "extension"],
		["cf 80 00 00 00 00 00 00 00", "above 2^63-1"], ["81 01 02", "string keys"], ["", "truncated"],
		["92 01", "truncated"], ["dd ff ff ff ff", "truncated"], ["df ff ff ff ff", "truncated"],
		["db 7f ff ff ff 61", "truncated"], ["c6 ff ff ff ff", "truncated"], ["01 02", "unexpected bytes"],
		["91".repeat(40) + "c0", "nested deeper"],
	]
	for c: Array in bad:
		var value: Variant = _decode_hex(c[0])
		t.check(
				value == null and codec.error.contains(c[1]),
				"decode %s fails with an error about '%s' (got '%s')" % [c[0], c[1], codec.error])
	t.check(
			not codec.write_value(PackedByteArray(), Vector2.ZERO) and codec.error.contains("Vector2"),
			"encoding a Vector2 is refused by name")


func _random_value(rng: RandomNumberGenerator, depth: int) -> Variant:
	var kind := rng.randi_range(0, 9 if depth < 3 else 6)
	match kind:
		0:
			return null
		1:
			return rng.randi_range(0, 1) == 1
		2:
			var bits := rng.randi_range(1, 62)
			var v := rng.randi() % (1 << mini(bits, 31))
			v = (v << maxi(0, bits - 31)) | (rng.randi() & ((1 << maxi(0, bits - 31)) - 1))
			return v if rng.randi_range(0, 1) == 0 else -v
		3:
			return rng.randf_range(-1.0e6, 1.0e6)
		4:
			var n: int = [0, 5, 31, 32, 200, 300][rng.randi_range(0, 5)]
			var s := ""
			for i: int in n:
				s += String.chr(rng.randi_range(32, 0x2fff))
			return s
		5, 6:
			var data := PackedByteArray()
			data.resize(rng.randi_range(0, 300))
			for i: int in data.size():
				data[i] = rng.randi_range(0, 255)
			return data
		7, 8:
			var arr := []
			for i: int in rng.randi_range(0, 20):
				arr.append(_random_value(rng, depth + 1))
			return arr
	var map := {}
	for i: int in rng.randi_range(0, 20):
		map["key%d" % rng.randi_range(0, 1000)] = _random_value(rng, depth + 1)
	return map


func _test_round_trips() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = FUZZ_SEED
	var ok := 0
	for i: int in 300:
		var value: Variant = _random_value(rng, 0)
		var out := codec.encode(value)
		var back: Variant = codec.decode(out, 0, out.size())
		if t.check_eq(back, value, "random value #%d round-trips" % i):
			ok += 1
	print("   round-trip: %d/300 random values" % ok)


func _test_truncations() -> void:
	# MessagePack is prefix-free: every strict prefix of a fixture body must be
	# refused with an error, never crash, never decode.
	var dir := DirAccess.open(t.fixtures_dir)
	if dir == null:
		return
	var tried := 0
	for file: String in dir.get_files():
		if not file.ends_with(".bin"):
			continue
		var bytes := FileAccess.get_file_as_bytes(t.fixtures_dir.path_join(file))
		for end: int in range(4, bytes.size()):
			var value: Variant = codec.decode(bytes, 4, end)
			tried += 1
			if not t.check(value == null and not codec.error.is_empty(), "%s cut at byte %d is refused" % [file, end]):
				break
	print("   truncation: %d cut frames refused" % tried)


func _test_fuzz() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = FUZZ_SEED
	var bodies: Array[PackedByteArray] = []
	var dir := DirAccess.open(t.fixtures_dir)
	if dir != null:
		for file: String in dir.get_files():
			if file.ends_with(".bin"):
				bodies.append(FileAccess.get_file_as_bytes(t.fixtures_dir.path_join(file)).slice(4))
	var decoded := 0
	var refused := 0
	var unclear := 0
	for i: int in 20000:
		var data: PackedByteArray
		if i % 2 == 0 or bodies.is_empty():
			data = PackedByteArray()
			data.resize(rng.randi_range(0, 64))
			for j: int in data.size():
				# Bias towards header bytes so containers and lengths get exercised.
				data[j] = rng.randi_range(0x80, 0xff) if rng.randf() < 0.5 else rng.randi_range(0, 255)
		else:
			data = bodies[rng.randi_range(0, bodies.size() - 1)].duplicate()
			for j: int in rng.randi_range(1, 4):
				data[rng.randi_range(0, data.size() - 1)] = rng.randi_range(0, 255)
		var value: Variant = codec.decode(data, 0, data.size())
		if codec.error.is_empty():
			decoded += 1
			# A value that decodes must encode again without error.
			codec.encode(value)
		else:
			refused += 1
			if value != null or codec.error.length() < 10:
				unclear += 1
	t.check_eq(unclear, 0, "every refused fuzz input returns null with a clear error")
	t.check_eq(decoded + refused, 20000, "every fuzz input either decodes or is refused")
	print("   fuzz (seed %d): 20000 inputs, %d decoded, %d refused with an error" % [FUZZ_SEED, decoded, refused])


func _test_speed() -> void:
	# 100,000 `text` events [70, id, 64-byte str8] in one buffer, decoded like
	# the node does: decode_u32 prefix, decode in place.
	var text := "x".repeat(64)
	var batch := PackedByteArray()
	for i: int in 100000:
		var at := batch.size()
		batch.resize(at + 4)
		batch.append(0x93)
		batch.append(70)
		codec.write_int(batch, i % 1000 + 1)
		codec.write_str(batch, text)
		batch.encode_u32(at, batch.size() - at - 4)
	var start := Time.get_ticks_usec()
	var pos := 0
	var count := 0
	var size := batch.size()
	while size - pos >= 4:
		var length := batch.decode_u32(pos)
		var value: Variant = codec.decode(batch, pos + 4, pos + 4 + length)
		pos += 4 + length
		if value[0] == 70:
			count += 1
	var decode_us := float(Time.get_ticks_usec() - start) / 100000.0
	t.check_eq(count, 100000, "the speed batch decodes completely")
	start = Time.get_ticks_usec()
	var out := PackedByteArray()
	for i: int in 100000:
		var at := out.size()
		out.resize(at + 6)
		out[at + 4] = 0x93
		out[at + 5] = 3
		codec.write_int(out, i % 1000 + 1)
		codec.write_str(out, "Echo: " + text)
		out.encode_u32(at, out.size() - at - 4)
	var encode_us := float(Time.get_ticks_usec() - start) / 100000.0
	print(("   speed: decode %.2f us per 64-byte text event, encode %.2f us per send_text "
			+ "command") % [decode_us, encode_us])
