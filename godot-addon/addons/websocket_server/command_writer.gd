extends RefCounted
## Encodes the commands of [code]protocol/PROTOCOL.md[/code] into one growing
## output buffer, one function per command.
##
## Each function appends one whole frame (4-byte little-endian length, then a
## msgpack array of the opcode and the arguments) to [member buffer], with no
## temporary arrays beyond the UTF-8 bytes of strings. The session writes the
## buffer to the sidecar's stdin in one write and clears it. Arguments are not
## checked here: the node checks them before it calls.

const Protocol := preload("res://addons/websocket_server/protocol.gd")
const MsgPackWriter := preload("res://addons/websocket_server/msgpack_writer.gd")

## The frames written since the last [method clear].
var buffer: PackedByteArray = PackedByteArray()

var _codec: MsgPackWriter = MsgPackWriter.new()


## Bytes waiting in [member buffer].
func size() -> int:
	return buffer.size()


## Forgets the frames written so far.
func clear() -> void:
	buffer.clear()


## [code]start[/code]: the protocol version and the [param options] map
## ([code]protocol/PROTOCOL.md[/code], "Start options"). Returns "" or why
## an option could not be encoded.
func start(options: Dictionary) -> String:
	var at := _begin(3, Protocol.CMD_START)
	_codec.write_int(buffer, Protocol.PROTOCOL_VERSION)
	var error := "" if _codec.write_value(buffer, options) else _codec.error
	_end(at)
	return error


## [code]stop[/code]: close every client with 1001 and stop listening.
func stop() -> void:
	_end(_begin(1, Protocol.CMD_STOP))


## [code]shutdown[/code]: close every client with 1001 and exit.
func shutdown() -> void:
	_end(_begin(1, Protocol.CMD_SHUTDOWN))


## [code]send_text[/code] to one client.
func send_text(client_id: int, text: String) -> void:
	var at := _begin(3, Protocol.CMD_SEND_TEXT)
	_codec.write_int(buffer, client_id)
	_codec.write_str(buffer, text)
	_end(at)


## [code]send_binary[/code] to one client.
func send_binary(client_id: int, data: PackedByteArray) -> void:
	var at := _begin(3, Protocol.CMD_SEND_BINARY)
	_codec.write_int(buffer, client_id)
	_codec.write_bin(buffer, data)
	_end(at)


## [code]broadcast_text[/code] to every client but [param exclude] (0: none).
func broadcast_text(text: String, exclude: int) -> void:
	var at := _begin(3, Protocol.CMD_BROADCAST_TEXT)
	_codec.write_str(buffer, text)
	_codec.write_int(buffer, exclude)
	_end(at)


## [code]broadcast_binary[/code] to every client but [param exclude] (0: none).
func broadcast_binary(data: PackedByteArray, exclude: int) -> void:
	var at := _begin(3, Protocol.CMD_BROADCAST_BINARY)
	_codec.write_bin(buffer, data)
	_codec.write_int(buffer, exclude)
	_end(at)


## [code]join_room[/code].
func join_room(client_id: int, room: String) -> void:
	_client_room(Protocol.CMD_JOIN_ROOM, client_id, room)


## [code]leave_room[/code].
func leave_room(client_id: int, room: String) -> void:
	_client_room(Protocol.CMD_LEAVE_ROOM, client_id, room)


## [code]room_text[/code] to every member of [param room] but [param exclude].
func room_text(room: String, text: String, exclude: int) -> void:
	var at := _begin(4, Protocol.CMD_ROOM_TEXT)
	_codec.write_str(buffer, room)
	_codec.write_str(buffer, text)
	_codec.write_int(buffer, exclude)
	_end(at)


## [code]room_binary[/code] to every member of [param room] but [param exclude].
func room_binary(room: String, data: PackedByteArray, exclude: int) -> void:
	var at := _begin(4, Protocol.CMD_ROOM_BINARY)
	_codec.write_str(buffer, room)
	_codec.write_bin(buffer, data)
	_codec.write_int(buffer, exclude)
	_end(at)


## [code]disconnect[/code]: close one client with [param code] and [param reason].
func disconnect_client(client_id: int, code: int, reason: String) -> void:
	var at := _begin(4, Protocol.CMD_DISCONNECT)
	_codec.write_int(buffer, client_id)
	_codec.write_int(buffer, code)
	_codec.write_str(buffer, reason)
	_end(at)


## [code]accept[/code] a pending connection request.
func accept(request_id: int, subprotocol: String) -> void:
	var at := _begin(3, Protocol.CMD_ACCEPT)
	_codec.write_int(buffer, request_id)
	_codec.write_str(buffer, subprotocol)
	_end(at)


## [code]reject[/code] a pending connection request with an HTTP status.
func reject(request_id: int, http_status: int, reason: String) -> void:
	var at := _begin(4, Protocol.CMD_REJECT)
	_codec.write_int(buffer, request_id)
	_codec.write_int(buffer, http_status)
	_codec.write_str(buffer, reason)
	_end(at)


## [code]ping[/code], answered by [code]pong[/code] with the same [param token].
func ping(token: int) -> void:
	_token_command(Protocol.CMD_PING, token)


## [code]get_stats[/code], answered by [code]stats[/code] with the same [param token].
func get_stats(token: int) -> void:
	_token_command(Protocol.CMD_GET_STATS, token)


## [code]request_room_members[/code], answered by [code]room_members[/code] with the same [param token].
func request_room_members(token: int, room: String) -> void:
	var at := _begin(3, Protocol.CMD_REQUEST_ROOM_MEMBERS)
	_codec.write_int(buffer, token)
	_codec.write_str(buffer, room)
	_end(at)


## [code]request_cluster_stats[/code], answered by [code]cluster_stats[/code] with the same [param token].
func request_cluster_stats(token: int) -> void:
	_token_command(Protocol.CMD_REQUEST_CLUSTER_STATS, token)


# Reserves the length prefix and writes the array header and the opcode (both
# below 16 and 128, so one byte each). Returns where the frame starts.
func _begin(element_count: int, opcode: int) -> int:
	var at := buffer.size()
	buffer.resize(at + 6)
	buffer[at + 4] = 0x90 | element_count
	buffer[at + 5] = opcode
	return at


func _end(at: int) -> void:
	buffer.encode_u32(at, buffer.size() - at - 4)


func _client_room(opcode: int, client_id: int, room: String) -> void:
	var at := _begin(3, opcode)
	_codec.write_int(buffer, client_id)
	_codec.write_str(buffer, room)
	_end(at)


func _token_command(opcode: int, token: int) -> void:
	var at := _begin(2, opcode)
	_codec.write_int(buffer, token)
	_end(at)
