extends RefCounted
## The encoding half of the MessagePack codec ([code]msgpack.gd[/code] adds
## decoding): appends values to a caller's growing buffer.
##
## Writes the smallest header of each value, so a batch of commands costs no
## temporary arrays beyond the UTF-8 bytes of each string. Every 8/16/32-bit
## tag family (uint, int, str, bin, array, map) goes through one writer,
## except that uint, str and bin write their 8-bit form inline: those carry
## the client ids and payloads of [code]send_text[/code] and friends, and on
## that path a call costs as much as the write.
## MessagePack is big-endian; 64-bit integers and floats are byte-swapped through
## an 8-byte scratch buffer.

## First tag of the uint family (uint8, uint16, uint32: 0xcc, 0xcd, 0xce).
const UINT8: int = 0xcc
## First tag of the int family (int8, int16, int32: 0xd0, 0xd1, 0xd2).
const INT8: int = 0xd0
## First tag of the str family (str8, str16, str32: 0xd9, 0xda, 0xdb).
const STR8: int = 0xd9
## First tag of the bin family (bin8, bin16, bin32: 0xc4, 0xc5, 0xc6).
const BIN8: int = 0xc4
## First tag of the array family (array16, array32: 0xdc, 0xdd).
const ARRAY16: int = 0xdc
## First tag of the map family (map16, map32: 0xde, 0xdf).
const MAP16: int = 0xde

## Why the last encode (or, in [code]msgpack.gd[/code], decode) failed; empty when it succeeded.
var error: String = ""

var _scratch: PackedByteArray = PackedByteArray()


func _init() -> void:
	_scratch.resize(8)


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
			error = ("cannot encode a value of type %s as MessagePack: "
					+ "use null, bool, int, float, String, PackedByteArray, Array or Dictionary") % type_string(typeof(value))
			return false
	return true


## Appends [param value] with the smallest integer header.
func write_int(out: PackedByteArray, value: int) -> void:
	if value >= 0:
		if value <= 0x7f:
			out.append(value)
		elif value <= 0xff:
			out.append(UINT8)
			out.append(value)
		elif value <= 0xffffffff:
			_write_tagged(out, UINT8, 1, value)
		else:
			# int64, as the sidecar writes integers past 32 bits (cluster ids): the same bytes both ways.
			out.append(0xd3)
			_append_be64(out, value)
	elif value >= -32:
		out.append(value & 0xff)
	elif value >= -2147483648:
		var width := 1 if value >= -128 else (2 if value >= -32768 else 4)
		# The masked value needs exactly [code]width[/code] bytes, so the writer picks the same tag.
		_write_tagged(out, INT8, 1, value & ((1 << (width * 8)) - 1))
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
		out.append(STR8)
		out.append(n)
	else:
		_write_tagged(out, STR8, 1, n)
	out.append_array(bytes)


## Appends [param data] with the smallest bin header.
func write_bin(out: PackedByteArray, data: PackedByteArray) -> void:
	var n := data.size()
	if n <= 0xff:
		out.append(BIN8)
		out.append(n)
	else:
		_write_tagged(out, BIN8, 1, n)
	out.append_array(data)


## Appends an array header for [param count] elements.
func write_array_header(out: PackedByteArray, count: int) -> void:
	if count <= 15:
		out.append(0x90 | count)
	else:
		_write_tagged(out, ARRAY16, 2, count)


## Appends a map header for [param count] key/value pairs.
func write_map_header(out: PackedByteArray, count: int) -> void:
	if count <= 15:
		out.append(0x80 | count)
	else:
		_write_tagged(out, MAP16, 2, count)


# The one writer of the tag families: the smallest tag of the family starting at
# [param first] (whose first member holds [param first_width] bytes) that holds
# [param value] (below 2^32), then the value big-endian.
func _write_tagged(out: PackedByteArray, first: int, first_width: int, value: int) -> void:
	var width := 1 if value <= 0xff else (2 if value <= 0xffff else 4)
	width = maxi(width, first_width)
	out.append(first + (width >> 1) - (first_width >> 1))
	if width == 4:
		out.append((value >> 24) & 0xff)
		out.append((value >> 16) & 0xff)
	if width >= 2:
		out.append((value >> 8) & 0xff)
	out.append(value & 0xff)


func _append_be64(out: PackedByteArray, v: int) -> void:
	_scratch.encode_s64(0, v)
	for i: int in range(7, -1, -1):
		out.append(_scratch[i])
