extends "res://addons/websocket_server/msgpack_writer.gd"
## A MessagePack codec for the sidecar protocol, written in GDScript: decoding
## here, encoding inherited from [code]msgpack_writer.gd[/code].
##
## Reads every header form the protocol allows (nil, bool, positive and
## negative fixint, uint8/16/32/64, int8/16/32/64, float32/64, fixstr,
## str8/16/32, bin8/16/32, fixarray, array16/32, fixmap, map16/32); extension
## types are refused. Decoding works in place on a caller's buffer
## ([method decode]); [method read_message] is the fast path for client
## messages. One reader ([method tag_width] and [method read_be]) serves every
## 8/16/32-bit tag family in both.
## 16- and 32-bit integers are composed from bytes (cheapest in GDScript).

## Deepest nesting of arrays and maps [method decode] accepts.
const MAX_DEPTH: int = 32

## The client id of the last message [method read_message] recognised.
var message_client_id: int = 0

var _buf: PackedByteArray = PackedByteArray()
var _pos: int = 0
var _end: int = 0


## Decodes exactly one value from [param buffer] between byte [param start]
## (included) and [param end] (excluded). On failure returns [code]null[/code]
## and sets [member error] to a message naming the problem and its offset;
## check [member error], since [code]null[/code] is also a valid value.
func decode(buffer: PackedByteArray, start: int, end: int) -> Variant:
	error = ""
	if start < 0 or end > buffer.size() or start > end:
		error = "invalid range %d..%d for a buffer of %d bytes" % [start, end, buffer.size()]
		return null
	_buf = buffer
	_pos = start
	_end = end
	var value: Variant = _read(0)
	if error.is_empty() and _pos != _end:
		error = "%d unexpected bytes after the value at offset %d" % [_end - _pos, _pos - start]
		value = null
	_buf = PackedByteArray()
	return value


## The width in bytes (1, 2 or 4) of the big-endian length or value that follows
## [param tag] when it belongs to the 8/16/32-bit family whose first tag is
## [param first] ([constant UINT8], [constant INT8], [constant STR8] or
## [constant BIN8]); 0 when it does not.
static func tag_width(tag: int, first: int) -> int:
	var index := tag - first
	return 1 << index if index >= 0 and index <= 2 else 0


## Reads [code][op, client_id, str|bin][/code], a client's message, straight
## from the frame body between [param at] and [param end], as
## [code]parseMessage[/code] in [code]protocol/message-codec.ts[/code] does:
## returns the payload's length [code]n[/code] (the payload is the body's last
## [code]n[/code] bytes) and sets [member message_client_id], or returns -1 for
## any other shape (another opcode,
## a client id that is not a uint or an int64/uint64 cluster id below 2^53,
## a payload that is not a str for
## [param text_op] or a bin for [param binary_op], extra or missing bytes),
## which then takes [method decode]. It reads the uint, str and bin families
## like [method tag_width] and [method read_be], but inline: on this path, one
## call per message, a call costs about as much as the reading (0.2 us).
func read_message(buffer: PackedByteArray, at: int, end: int, text_op: int, binary_op: int) -> int:
	if end - at < 4 or buffer[at] != 0x93:
		return -1
	var op: int = buffer[at + 1]
	if op != text_op and op != binary_op:
		return -1
	# The client id, then the payload's length: the same family read twice,
	# written out twice because a loop over the two costs 0.17 us per message.
	var p := at + 2
	var id: int = buffer[p]
	if id < 0x80:
		p += 1
	elif id == 0xd3 or id == 0xcf:
		# A cluster id past 32 bits (below 2^53), as int64 or uint64.
		if end - p <= 8 or buffer[p + 1] != 0 or buffer[p + 2] > 0x1f:
			return -1
		id = 0
		for i: int in range(1, 9):
			id = (id << 8) | buffer[p + i]
		p += 9
	else:
		var index := id - UINT8
		if index < 0 or index > 2 or end - p <= 1 << index:
			return -1
		if index == 0:
			id = buffer[p + 1]
		elif index == 1:
			id = (buffer[p + 1] << 8) | buffer[p + 2]
		else:
			id = (buffer[p + 1] << 24) | (buffer[p + 2] << 16) | (buffer[p + 3] << 8) | buffer[p + 4]
		p += 1 + (1 << index)
	if p >= end:
		return -1
	var tag: int = buffer[p]
	var n: int
	if op == text_op and tag >= 0xa0 and tag <= 0xbf:
		n = tag & 0x1f
		p += 1
	else:
		var index := tag - (STR8 if op == text_op else BIN8)
		if index < 0 or index > 2 or end - p <= 1 << index:
			return -1
		if index == 0:
			n = buffer[p + 1]
		elif index == 1:
			n = (buffer[p + 1] << 8) | buffer[p + 2]
		else:
			n = (buffer[p + 1] << 24) | (buffer[p + 2] << 16) | (buffer[p + 3] << 8) | buffer[p + 4]
		p += 1 + (1 << index)
	if p + n != end:
		return -1
	message_client_id = id
	return n


## The big-endian unsigned integer of [param width] bytes (1, 2 or 4) at
## [param at] in [param buffer]. The caller checks that the bytes are there.
static func read_be(buffer: PackedByteArray, at: int, width: int) -> int:
	if width == 1:
		return buffer[at]
	if width == 2:
		return (buffer[at] << 8) | buffer[at + 1]
	return (buffer[at] << 24) | (buffer[at + 1] << 16) | (buffer[at + 2] << 8) | buffer[at + 3]


func _fail(message: String) -> Variant:
	if error.is_empty():
		error = message
	return null


func _truncated(what: String, need: int) -> Variant:
	return _fail("truncated %s: needs %d more bytes at offset %d but only %d remain" % [what, need, _pos, _end - _pos])


# Byte-swaps the next 8 bytes into the scratch buffer (caller checked bounds).
func _swap8() -> void:
	var p := _pos + 7
	for i: int in 8:
		_scratch[i] = _buf[p - i]
	_pos += 8


# gdlint:disable=max-returns
func _read(depth: int) -> Variant:
	if _pos >= _end:
		return _truncated("value", 1)
	var b: int = _buf[_pos]
	_pos += 1
	if b <= 0x7f:
		return b
	if b >= 0xe0:
		return b - 256
	if b >= 0xa0 and b <= 0xbf:
		return _read_str(b & 0x1f)
	if b >= 0x90 and b <= 0x9f:
		return _read_array(b & 0x0f, depth)
	if b <= 0x8f:
		return _read_map(b & 0x0f, depth)
	# The tag families, in order of frequency on the wire.
	var width := tag_width(b, STR8)
	if width > 0:
		var n := _read_tagged("str", width)
		return null if n < 0 else _read_str(n)
	width = tag_width(b, UINT8)
	if width > 0:
		var v := _read_tagged("uint", width)
		return null if v < 0 else v
	width = tag_width(b, BIN8)
	if width > 0:
		var n := _read_tagged("bin", width)
		return null if n < 0 else _read_bin(n)
	if b == ARRAY16 or b == ARRAY16 + 1:
		var n := _read_tagged("array", 2 << (b - ARRAY16))
		return null if n < 0 else _read_array(n, depth)
	if b == MAP16 or b == MAP16 + 1:
		var n := _read_tagged("map", 2 << (b - MAP16))
		return null if n < 0 else _read_map(n, depth)
	width = tag_width(b, INT8)
	if width > 0:
		var v := _read_tagged("int", width)
		if v < 0:
			return null
		var sign_bit := 1 << (width * 8 - 1)
		return v - (sign_bit << 1) if v >= sign_bit else v
	return _read_other(b)
# gdlint:enable=max-returns


# The tags outside the families: nil, booleans, floats, 64-bit integers, the
# unused byte and the refused extension types.
func _read_other(b: int) -> Variant:
	var avail := _end - _pos
	match b:
		0xc3:
			return true
		0xc2:
			return false
		0xc0:
			return null
		0xcb:
			if avail < 8:
				return _truncated("float64", 8)
			_swap8()
			return _scratch.decode_double(0)
		0xcf:
			if avail < 8:
				return _truncated("uint64", 8)
			_swap8()
			var v := _scratch.decode_s64(0)
			if v < 0:
				return _fail("uint64 at offset %d is above 2^63-1, the largest int Godot holds" % (_pos - 9))
			return v
		0xd3:
			if avail < 8:
				return _truncated("int64", 8)
			_swap8()
			return _scratch.decode_s64(0)
		0xca:
			if avail < 4:
				return _truncated("float32", 4)
			_scratch[0] = _buf[_pos + 3]
			_scratch[1] = _buf[_pos + 2]
			_scratch[2] = _buf[_pos + 1]
			_scratch[3] = _buf[_pos]
			_pos += 4
			return _scratch.decode_float(0)
		0xc1:
			return _fail("byte 0xc1 at offset %d is never used in MessagePack: the stream is corrupt" % (_pos - 1))
	return _fail("MessagePack extension type 0x%02x at offset %d: the protocol allows no extension types" % [b, _pos - 1])


# The one reader of the tag families: the big-endian length or value of
# [param width] bytes at the cursor, or -1 (with [member error] set) when the
# frame ends first. [param family] names the tag in that error.
func _read_tagged(family: String, width: int) -> int:
	if _end - _pos < width:
		_truncated("%s%d header" % [family, width * 8], width)
		return -1
	_pos += width
	return read_be(_buf, _pos - width, width)


func _read_str(n: int) -> Variant:
	if _end - _pos < n:
		return _truncated("str of %d bytes" % n, n)
	if n == 0:
		return ""
	_pos += n
	return _buf.slice(_pos - n, _pos).get_string_from_utf8()


func _read_bin(n: int) -> Variant:
	if _end - _pos < n:
		return _truncated("bin of %d bytes" % n, n)
	_pos += n
	return _buf.slice(_pos - n, _pos)


func _read_array(n: int, depth: int) -> Variant:
	if depth >= MAX_DEPTH:
		return _fail("arrays and maps nested deeper than %d levels at offset %d" % [MAX_DEPTH, _pos])
	# Every element takes at least one byte: refuse impossible counts before allocating.
	if n > _end - _pos:
		return _truncated("array of %d elements" % n, n)
	var result := []
	result.resize(n)
	for i: int in n:
		result[i] = _read(depth + 1)
		if not error.is_empty():
			return null
	return result


func _read_map(n: int, depth: int) -> Variant:
	if depth >= MAX_DEPTH:
		return _fail("arrays and maps nested deeper than %d levels at offset %d" % [MAX_DEPTH, _pos])
	if n * 2 > _end - _pos:
		return _truncated("map of %d entries" % n, n * 2)
	var result := {}
	for i: int in n:
		var key_at := _pos
		var key: Variant = _read(depth + 1)
		if not error.is_empty():
			return null
		if typeof(key) != TYPE_STRING:
			return _fail("map key at offset %d is %s, but the protocol's maps have string keys"
					% [key_at, type_string(typeof(key))])
		var value: Variant = _read(depth + 1)
		if not error.is_empty():
			return null
		result[key] = value
	return result
