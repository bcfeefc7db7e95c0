extends RefCounted
## The checks in front of the command writer: each function of the node's
## sending API checks the session's state and its arguments, then queues the
## command with [code]command_writer.gd[/code]. Returns what the node returns.
## A message whose command would not fit in one frame
## ([constant Protocol.MAX_FRAME_LENGTH] bytes) is refused with
## [constant ERR_INVALID_PARAMETER] and a [code]server_error[/code]: the
## sidecar would have to drop its command stream on it.

const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")
const Protocol := preload("res://addons/websocket_server/protocol.gd")

## Longest close reason RFC 6455 allows, in bytes of UTF-8.
const MAX_CLOSE_REASON_BYTES: int = 123
## Below this many payload bytes no command can exceed a frame, so the exact
## size is not worked out.
const SURELY_FITS_BYTES: int = Protocol.MAX_FRAME_LENGTH - 4096

var _session: SidecarSession
var _next_token: int = 1


func _init(session: SidecarSession) -> void:
	_session = session


## OK, [constant ERR_UNCONFIGURED] when not listening, or
## [constant ERR_DOES_NOT_EXIST] when [param client_id] is not connected.
func check_client(client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	return OK if _session.clients.has(client_id) else ERR_DOES_NOT_EXIST


## Like [method check_client], for a pending connection request.
func check_request(request_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	return OK if _session.pending_requests.has(request_id) else ERR_DOES_NOT_EXIST


func send_text(client_id: int, message: String) -> Error:
	var err := check_client(client_id)
	if err == OK and not _fits("send_text", _utf8_bound(message), true, _int_bytes(client_id)):
		err = ERR_INVALID_PARAMETER
	if err == OK:
		_session.commands.send_text(client_id, message)
	return err


func send_binary(client_id: int, data: PackedByteArray) -> Error:
	var err := check_client(client_id)
	if err == OK and not _fits("send_binary", data.size(), false, _int_bytes(client_id)):
		err = ERR_INVALID_PARAMETER
	if err == OK:
		_session.commands.send_binary(client_id, data)
	return err


func broadcast_text(message: String, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	if not _fits("broadcast_text", _utf8_bound(message), true, _int_bytes(exclude_client_id)):
		return ERR_INVALID_PARAMETER
	_session.commands.broadcast_text(message, exclude_client_id)
	return OK


func broadcast_binary(data: PackedByteArray, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	if not _fits("broadcast_binary", data.size(), false, _int_bytes(exclude_client_id)):
		return ERR_INVALID_PARAMETER
	_session.commands.broadcast_binary(data, exclude_client_id)
	return OK


func disconnect_client(client_id: int, code: int, reason: String) -> Error:
	if code != 1000 and (code < 3000 or code > 4999):
		push_error(("WebSocketServer.disconnect_client: close code %d is not allowed: "
				+ "use 1000 or 3000-4999 (RFC 6455 section 7.4)") % code)
		return ERR_INVALID_PARAMETER
	var reason_bytes := reason.to_utf8_buffer().size()
	if reason_bytes > MAX_CLOSE_REASON_BYTES:
		push_error(("WebSocketServer.disconnect_client: the reason is %d bytes of UTF-8; "
				+ "shorten it to 123 bytes or less") % reason_bytes)
		return ERR_INVALID_PARAMETER
	var err := check_client(client_id)
	if err == OK:
		_session.commands.disconnect_client(client_id, code, reason)
	return err


func join_room(client_id: int, room: String) -> Error:
	var err := _check_room_member(client_id, room)
	if err == OK:
		_session.commands.join_room(client_id, room)
	return err


func leave_room(client_id: int, room: String) -> Error:
	var err := _check_room_member(client_id, room)
	if err == OK:
		_session.commands.leave_room(client_id, room)
	return err


func room_text(room: String, message: String, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	var rest := _int_bytes(exclude_client_id) + _room_bytes(room)
	if not _fits("broadcast_text_to_room", _utf8_bound(message), true, rest):
		return ERR_INVALID_PARAMETER
	_session.commands.room_text(room, message, exclude_client_id)
	return OK


func room_binary(room: String, data: PackedByteArray, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	var rest := _int_bytes(exclude_client_id) + _room_bytes(room)
	if not _fits("broadcast_binary_to_room", data.size(), false, rest):
		return ERR_INVALID_PARAMETER
	_session.commands.room_binary(room, data, exclude_client_id)
	return OK


func accept(request_id: int, subprotocol: String) -> Error:
	var err := check_request(request_id)
	if err == OK:
		_session.pending_requests.erase(request_id)
		_session.commands.accept(request_id, subprotocol)
	return err


func reject(request_id: int, status: int, reason: String) -> Error:
	var err := check_request(request_id)
	if err != OK:
		return err
	if status < 400 or status > 599:
		push_error("WebSocketServer.reject_connection: HTTP status %d is not an error status: use 400-599" % status)
		return ERR_INVALID_PARAMETER
	_session.pending_requests.erase(request_id)
	_session.commands.reject(request_id, status, reason)
	return OK


## Queues [code]get_stats[/code]; returns its token, or -1 without a sidecar.
func request_stats() -> int:
	if _session.child == null or _session.state == SidecarSession.State.IDLE:
		return -1
	var token := _next_token
	_next_token += 1
	_session.commands.get_stats(token)
	return token


func _check_room_member(client_id: int, room: String) -> Error:
	if room.is_empty():
		push_error("WebSocketServer: a room name cannot be empty")
		return ERR_INVALID_PARAMETER
	return check_client(client_id)


# True when a command whose payload is a str ([param is_str]) or bin of
# [param n] bytes, plus [param rest] bytes of other arguments, fits in one
# frame; otherwise reports it through server_error.
func _fits(what: String, n: int, is_str: bool, rest: int) -> bool:
	if n + rest < SURELY_FITS_BYTES:
		return true
	# Array header and opcode, the payload's header (msgpack's smallest form), the payload, the rest.
	var body := 2 + _head_bytes(n, is_str) + n + rest
	if body <= Protocol.MAX_FRAME_LENGTH:
		return true
	_session.report_error(("WebSocketServer.%s: a %d-byte message does not fit in one command to the sidecar "
			+ "(its frame would be %d bytes; frames hold at most %d): nothing was sent") % [
			what, n, body, Protocol.MAX_FRAME_LENGTH])
	return false


# Bytes of [param text] in UTF-8, or more (4 per character) when that is far
# below a frame's size.
static func _utf8_bound(text: String) -> int:
	var bound := text.length() * 4
	return bound if bound < SURELY_FITS_BYTES else text.to_utf8_buffer().size()


# Bytes a room name takes in a command: its str header and its UTF-8.
static func _room_bytes(room: String) -> int:
	var n := room.to_utf8_buffer().size()
	return _head_bytes(n, true) + n


static func _head_bytes(n: int, is_str: bool) -> int:
	if is_str and n < 32:
		return 1
	return 2 if n < 0x100 else (3 if n < 0x10000 else 5)


# Bytes msgpack's smallest form takes for [param value].
static func _int_bytes(value: int) -> int:
	if value >= -32 and value < 0x80:
		return 1
	if value >= -128 and value < 0x100:
		return 2
	if value >= -32768 and value < 0x10000:
		return 3
	if value >= -2147483648 and value < 0x100000000:
		return 5
	return 9
