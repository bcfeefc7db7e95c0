## A MessagePack codec for the sidecar protocol, written in GDScript.
##
## Reads every header form the protocol allows (nil, bool, positive and
## negative fixint, uint8/16/32/64, int8/16/32/64, float32/64, fixstr,
## str8/16/32, bin8/16/32, fixarray, array16/32, fixmap, map16/32) and writes
## the smallest form of each header. Extension types are refused.
## [br][br]
## Decoding works in place on a caller's buffer ([method decode]); encoding
## appends to a caller's growing buffer ([method write_value] and the
## [code]write_*[/code] helpers), so a batch of commands costs no temporary
## arrays beyond the UTF-8 bytes of each string.
## [br][br]
## MessagePack is big-endian and [PackedByteArray]'s [code]decode_*[/code]
## methods are little-endian: 16- and 32-bit integers are composed from bytes
## (cheapest in GDScript), 64-bit integers and floats are byte-swapped through
## an 8-byte scratch buffer and read with the native decoder.
extends RefCounted

## Deepest nesting of arrays and maps [method decode] accepts.
const MAX_DEPTH: int = 32

## Why the last [method decode] failed; empty when it succeeded.
var error: String = ""

var _buf: PackedByteArray = PackedByteArray()
var _pos: int = 0
var _end: int = 0
var _scratch: PackedByteArray = PackedByteArray()


func _init() -> void:
	_scratch.resize(8)


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


## Encodes [param value] into a new [PackedByteArray]. Convenient for tests
## and one-off values; batches should use [method write_value] on one buffer.
func encode(value: Variant) -> PackedByteArray:
	var out := PackedByteArray()
	error = ""
	write_value(out, value)
	return out


## Appends [param value] to [param out] as MessagePack. Supports null, bool,
## int, float (as float64), String/StringName, PackedByteArray (bin), Array and
## the other packed arrays (array), Dictionary (map). Returns [code]false[/code]
## and sets [member error] for any other type.
func write_value(out: PackedByteArray, value: Variant) -> bool:
	match typeof(value):
		TYPE_NIL:
			out.append(0xc0)
		TYPE_BOOL:
			out.append(0xc3 if value else 0xc2)
		TYPE_INT:
			write_int(out, value)
		TYPE_FLOAT:
			write_float(out, value)
		TYPE_STRING, TYPE_STRING_NAME:
			write_str(out, str(value))
		TYPE_PACKED_BYTE_ARRAY:
			write_bin(out, value)
		TYPE_DICTIONARY:
			var dict: Dictionary = value
			write_map_header(out, dict.size())
			for key: Variant in dict:
				if not write_value(out, key):
					return false
				if not write_value(out, dict[key]):
					return false
		TYPE_ARRAY, TYPE_PACKED_STRING_ARRAY, TYPE_PACKED_INT32_ARRAY, \
		TYPE_PACKED_INT64_ARRAY, TYPE_PACKED_FLOAT32_ARRAY, TYPE_PACKED_FLOAT64_ARRAY:
			write_array_header(out, value.size())
			for item: Variant in value:
				if not write_value(out, item):
					return false
		_:
			error = ("cannot encode a value of type %s as MessagePack: use null, bool, int, float, String, PackedByteArray, "
					+ "Array or Dictionary") % type_string(typeof(value))
			return false
	return true


## Appends [param value] with the smallest integer header.
func write_int(out: PackedByteArray, value: int) -> void:
	if value >= 0:
		if value <= 0x7f:
			out.append(value)
		elif value <= 0xff:
			out.append(0xcc)
			out.append(value)
		elif value <= 0xffff:
			out.append(0xcd)
			_append_be16(out, value)
		elif value <= 0xffffffff:
			out.append(0xce)
			_append_be32(out, value)
		else:
			out.append(0xcf)
			_append_be64(out, value)
	elif value >= -32:
		out.append(value & 0xff)
	elif value >= -128:
		out.append(0xd0)
		out.append(value & 0xff)
	elif value >= -32768:
		out.append(0xd1)
		_append_be16(out, value & 0xffff)
	elif value >= -2147483648:
		out.append(0xd2)
		_append_be32(out, value & 0xffffffff)
	else:
		out.append(0xd3)
		_append_be64(out, value)


## Appends [param value] as float64.
func write_float(out: PackedByteArray, value: float) -> void:
	_scratch.encode_double(0, value)
	out.append(0xcb)
	for i: int in range(7, -1, -1):
		out.append(_scratch[i])


## Appends [param text] as UTF-8 with the smallest str header.
func write_str(out: PackedByteArray, text: String) -> void:
	var bytes := text.to_utf8_buffer()
	var n := bytes.size()
	if n <= 31:
		out.append(0xa0 | n)
	elif n <= 0xff:
		out.append(0xd9)
		out.append(n)
	elif n <= 0xffff:
		out.append(0xda)
		_append_be16(out, n)
	else:
		out.append(0xdb)
		_append_be32(out, n)
	out.append_array(bytes)


## Appends [param data] with the smallest bin header.
func write_bin(out: PackedByteArray, data: PackedByteArray) -> void:
	var n := data.size()
	if n <= 0xff:
		out.append(0xc4)
		out.append(n)
	elif n <= 0xffff:
		out.append(0xc5)
		_append_be16(out, n)
	else:
		out.append(0xc6)
		_append_be32(out, n)
	out.append_array(data)


## Appends an array header for [param count] elements.
func write_array_header(out: PackedByteArray, count: int) -> void:
	if count <= 15:
		out.append(0x90 | count)
	elif count <= 0xffff:
		out.append(0xdc)
		_append_be16(out, count)
	else:
		out.append(0xdd)
		_append_be32(out, count)


## Appends a map header for [param count] key/value pairs.
func write_map_header(out: PackedByteArray, count: int) -> void:
	if count <= 15:
		out.append(0x80 | count)
	elif count <= 0xffff:
		out.append(0xde)
		_append_be16(out, count)
	else:
		out.append(0xdf)
		_append_be32(out, count)


func _append_be16(out: PackedByteArray, v: int) -> void:
	out.append((v >> 8) & 0xff)
	out.append(v & 0xff)


func _append_be32(out: PackedByteArray, v: int) -> void:
	out.append((v >> 24) & 0xff)
	out.append((v >> 16) & 0xff)
	out.append((v >> 8) & 0xff)
	out.append(v & 0xff)


func _append_be64(out: PackedByteArray, v: int) -> void:
	_scratch.encode_s64(0, v)
	for i: int in range(7, -1, -1):
		out.append(_scratch[i])


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
	var avail := _end - _pos
	var v: int = 0
	# Cases in order of frequency on the wire: match tests them one by one.
	match b:
		0xd9:
			if avail < 1:
				return _truncated("str8 header", 1)
			_pos += 1
			return _read_str(_buf[_pos - 1])
		0xcd:
			if avail < 2:
				return _truncated("uint16", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return v
		0xce:
			if avail < 4:
				return _truncated("uint32", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return v
		0xc4:
			if avail < 1:
				return _truncated("bin8 header", 1)
			_pos += 1
			return _read_bin(_buf[_pos - 1])
		0xc5:
			if avail < 2:
				return _truncated("bin16 header", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return _read_bin(v)
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
		0xd0:
			if avail < 1:
				return _truncated("int8", 1)
			_pos += 1
			return _buf.decode_s8(_pos - 1)
		0xd1:
			if avail < 2:
				return _truncated("int16", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return v - 0x10000 if v >= 0x8000 else v
		0xd2:
			if avail < 4:
				return _truncated("int32", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return v - 0x100000000 if v >= 0x80000000 else v
		0xcc:
			if avail < 1:
				return _truncated("uint8", 1)
			_pos += 1
			return _buf[_pos - 1]
		0xda:
			if avail < 2:
				return _truncated("str16 header", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return _read_str(v)
		0xc6:
			if avail < 4:
				return _truncated("bin32 header", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return _read_bin(v)
		0xdc:
			if avail < 2:
				return _truncated("array16 header", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return _read_array(v, depth)
		0xde:
			if avail < 2:
				return _truncated("map16 header", 2)
			v = (_buf[_pos] << 8) | _buf[_pos + 1]
			_pos += 2
			return _read_map(v, depth)
		0xcf:
			if avail < 8:
				return _truncated("uint64", 8)
			_swap8()
			v = _scratch.decode_s64(0)
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
		0xdb:
			if avail < 4:
				return _truncated("str32 header", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return _read_str(v)
		0xdd:
			if avail < 4:
				return _truncated("array32 header", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return _read_array(v, depth)
		0xdf:
			if avail < 4:
				return _truncated("map32 header", 4)
			v = (_buf[_pos] << 24) | (_buf[_pos + 1] << 16) | (_buf[_pos + 2] << 8) | _buf[_pos + 3]
			_pos += 4
			return _read_map(v, depth)
		0xc1:
			return _fail("byte 0xc1 at offset %d is never used in MessagePack: the stream is corrupt" % (_pos - 1))
	return _fail(("MessagePack extension type 0x%02x at offset %d: the protocol allows no extension "
			+ "types") % [b, _pos - 1])
# gdlint:enable=max-returns


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
			return _fail(("map key at offset %d is %s, but the protocol's maps have string "
					+ "keys") % [key_at, type_string(typeof(key))])
		var value: Variant = _read(depth + 1)
		if not error.is_empty():
			return null
		result[key] = value
	return result
