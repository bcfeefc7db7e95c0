extends RefCounted
## The checks in front of the command writer: each function of the node's
## sending API checks the session's state and its arguments, then queues the
## command with [code]command_writer.gd[/code]. Returns what the node returns.

const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")

## Longest close reason RFC 6455 allows, in bytes of UTF-8.
const MAX_CLOSE_REASON_BYTES: int = 123

var _session: SidecarSession


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
	if err == OK:
		_session.commands.send_text(client_id, message)
	return err


func send_binary(client_id: int, data: PackedByteArray) -> Error:
	var err := check_client(client_id)
	if err == OK:
		_session.commands.send_binary(client_id, data)
	return err


func broadcast_text(message: String, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
	_session.commands.broadcast_text(message, exclude_client_id)
	return OK


func broadcast_binary(data: PackedByteArray, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
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
	_session.commands.room_text(room, message, exclude_client_id)
	return OK


func room_binary(room: String, data: PackedByteArray, exclude_client_id: int) -> Error:
	if _session.state != SidecarSession.State.LISTENING:
		return ERR_UNCONFIGURED
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


func _check_room_member(client_id: int, room: String) -> Error:
	if room.is_empty():
		push_error("WebSocketServer: a room name cannot be empty")
		return ERR_INVALID_PARAMETER
	return check_client(client_id)
