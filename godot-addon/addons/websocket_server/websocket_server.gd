@tool
@icon("res://addons/websocket_server/icon.svg")
class_name WebSocketServer
extends Node
## A WebSocket server. Every socket lives in a sidecar process; this node
## drives it over pipes and turns its events into signals.
##
## Use it from code like the old GDExtension:
## [codeblock]
## var server = WebSocketServer.new()
## server.message_received.connect(func(id, msg): server.send_text(id, "Echo: " + msg))
## if server.start(8080, "0.0.0.0"):
##     print("listening")
## # then call server.process() every frame, e.g. from _process()
## [/codeblock]
## or add it to a scene: in the tree it calls [method process] itself every
## frame, and with [member autostart] it starts on [method Node._ready] using
## [member port], [member host] and the other properties.
## [br][br]
## The sidecar is found and started by [method start] (see the README for
## where it is looked for). [method start] waits until the sidecar listens or
## fails, up to [member startup_timeout_ms]; everything else is non-blocking:
## [method process] reads only what the pipe holds, emits signals in arrival
## order and writes every queued command in one write.

## Emitted when a client completed its WebSocket handshake.
signal client_connected(client_id: int)
## Emitted when a client is gone. [param code] is the close code it sent
## (1005 when its close frame carried none), the code the server closed it
## with, or 1006 when the connection dropped without a closing handshake.
signal client_disconnected(client_id: int, code: int)
## Emitted for every text message from a client.
signal message_received(client_id: int, message: String)
## Emitted for every binary message from a client.
signal data_received(client_id: int, data: PackedByteArray)
## Emitted on every server error, with a message saying what went wrong and
## what to do.
signal server_error(error: String)
## Emitted right after [signal client_disconnected] with the close details:
## [param reason] as sent, and [param was_clean] [code]true[/code] when a close
## frame was received.
signal client_closed(client_id: int, code: int, reason: String, was_clean: bool)
## Emitted when [member auth] is on and a client asks to connect. Answer with
## [method accept_connection] or [method reject_connection] within
## [member auth_timeout_ms]. [param info] holds [code]address[/code],
## [code]port[/code], [code]path[/code], [code]query[/code] and
## [code]headers[/code].
signal connection_requested(request_id: int, info: Dictionary)
## Emitted when a request from [signal connection_requested] can no longer be
## answered: it was not answered within [member auth_timeout_ms] (the client
## got 503) or the client went away.
signal connection_request_expired(request_id: int)
## Emitted when the server started listening, with the real port.
signal server_started(port: int)
## Emitted when the server stopped, by [method stop] or because the sidecar ended.
signal server_stopped
## Emitted for every error the sidecar reports, with its stable
## [param code] (see the README), a message, and the client concerned (0 for none).
## Codes that need attention are also emitted through [signal server_error].
signal error_reported(code: String, message: String, client_id: int)
## Emitted with the answer to [method request_stats].
signal stats_received(token: int, stats: Dictionary)

enum _State { IDLE, STARTING, LISTENING, STOPPING }

const Protocol := preload("res://addons/websocket_server/protocol.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")
const SidecarProcess := preload("res://addons/websocket_server/sidecar_process.gd")
const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")

## Error codes reported only through [signal error_reported]: they describe
## expected races (a client that left before a queued command reached it) or
## refused upgrades, not faults.
const INFORMATIONAL_ERRORS: PackedStringArray = ["rejected_connection", "unknown_client", "unknown_request"]
## Most bytes read from the sidecar per [method process] call.
const READ_BUDGET_BYTES: int = 16 * 1024 * 1024
## Most read-dispatch-write rounds in one [method process] call. A pipe holds
## 64 KiB on Linux, so one read per frame capped the addon at about 800 small
## messages per frame; while the handlers of one round run, the sidecar refills
## the pipe, and the next round takes that.
const MAX_ROUNDS_PER_PROCESS: int = 8
## A read this large means the pipe was (nearly) full: more is likely waiting.
const FULL_PIPE_BYTES: int = 32 * 1024
## While handlers answer a batch of messages, replies leave once this many bytes
## wait, so the sidecar works on them while the rest of the batch is handled
## (and they come back in time for the next frame) instead of after it.
const EARLY_FLUSH_BYTES: int = 16 * 1024
## How long [method stop] waits for the sidecar to close its clients.
const STOP_WAIT_MS: int = 1500

## TCP port used when the node starts itself ([member autostart]).
## 0 picks a free port; see [method get_port].
@export_range(0, 65535) var port: int = 8080
## Address to bind when the node starts itself: IPv4, IPv6 ([code]"::"[/code]) or a host name.
@export var host: String = "0.0.0.0"
## When [code]true[/code], the node calls [code]start(port, host)[/code] in [method Node._ready] (not in the editor).
@export var autostart: bool = false

@export_group("Connections")
## When not empty, only upgrades to this exact path (e.g. [code]"/game"[/code]) are accepted; others get 404.
@export var path: String = ""
## Most simultaneous clients; 0 for no limit. Upgrades past it get 503.
@export_range(0, 1000000, 1, "or_greater") var max_clients: int = 0
## Largest incoming message in bytes; bigger ones close the client with 1009.
@export_range(1, 268435456, 1, "or_greater") var max_message_size: int = 1048576
## Bytes queued to one client before it is closed with 1008 (a client that stopped reading).
@export_range(1, 268435456, 1, "or_greater") var max_outbound_buffer: int = 4194304
## A connection must finish its upgrade within this many milliseconds.
@export_range(1, 600000, 1, "or_greater") var handshake_timeout_ms: int = 5000
## Ping every client this often (milliseconds); 0 turns heartbeats off.
@export_range(0, 600000, 1, "or_greater") var heartbeat_interval_ms: int = 30000
## A client that does not answer a ping within this many milliseconds is dropped (1006).
@export_range(1, 600000, 1, "or_greater") var heartbeat_timeout_ms: int = 10000
## Subprotocols the server speaks, in preference order.
@export var subprotocols: PackedStringArray = []
## When not empty, upgrades whose [code]Origin[/code] header is not listed get 403.
@export var allowed_origins: PackedStringArray = []
## Extra headers (name to value) sent with the 101 response.
@export var response_headers: Dictionary = {}
## Negotiate permessage-deflate compression with clients that offer it.
@export var permessage_deflate: bool = false
## Messages per second one client may send; 0 for no limit. A client past it
## is slowed down, never cut off: the server stops reading its socket, so TCP
## holds it back, and its messages arrive in order as the rate allows.
@export_range(0, 1000000, 1, "or_greater") var max_messages_per_second: int = 0
## Messages a client may send at once before [member max_messages_per_second]
## applies; 0 means one second's worth. Used only with a rate.
@export_range(0, 1000000, 1, "or_greater") var message_burst: int = 0

@export_group("Authentication")
## When [code]true[/code], every upgrade waits for [method accept_connection] or
## [method reject_connection] after [signal connection_requested].
@export var auth: bool = false
## Requests not answered within this many milliseconds are rejected with 503.
@export_range(1, 600000, 1, "or_greater") var auth_timeout_ms: int = 5000

@export_group("TLS")
## PEM certificate chain. With [member tls_key_path] set too the server speaks
## [code]wss://[/code] (TLS 1.2 minimum). [code]res://[/code] and
## [code]user://[/code] paths work when they are real files on disk.
@export_global_file("*.pem", "*.crt") var tls_cert_path: String = ""
## PEM private key for [member tls_cert_path].
@export_global_file("*.pem", "*.key") var tls_key_path: String = ""

@export_group("Sidecar")
## Explicit path of the sidecar executable (or of a [code].cjs[/code] file
## to run with node). Empty: look for it as the README describes.
@export_global_file var sidecar_path: String = ""
## How long [method start] waits for the sidecar to listen, in milliseconds.
@export_range(100, 60000, 1, "or_greater") var startup_timeout_ms: int = 10000
## When [code]false[/code], the sidecar's log lines are not forwarded to the Output.
@export var forward_sidecar_logs: bool = true

## When [code]true[/code], each client's first message is its Godot multiplayer
## peer id, sent by the sidecar (start option [code]multiplayer_peer_ids[/code]).
## [WebSocketServerMultiplayerPeer] sets it; not shown in the Inspector.
var multiplayer_peer_ids: bool = false

var _codec: MsgPack = MsgPack.new()
var _proc: SidecarProcess = null
var _state: _State = _State.IDLE
var _generation: int = 0
var _in: PackedByteArray = PackedByteArray()
var _in_pos: int = 0
var _out: PackedByteArray = PackedByteArray()
var _clients: Dictionary = {}
var _pending_requests: Dictionary = {}
var _port: int = 0
var _bound_host: String = ""
var _tls: bool = false
var _capabilities: PackedStringArray = []
var _got_hello: bool = false
var _start_error: String = ""
var _next_token: int = 1


func _ready() -> void:
	if autostart and not Engine.is_editor_hint():
		start(port, host)


func _process(_delta: float) -> void:
	if _proc != null:
		process()


func _notification(what: int) -> void:
	if what == NOTIFICATION_PREDELETE and _proc != null:
		# Freed or the game is quitting: end the sidecar without signals.
		_proc.forward_logs = false
		_proc.close(1000)
		_proc = null


## Starts the sidecar and makes it listen on [param listen_port] (0 picks a
## free one, see [method get_port]) at [param listen_host]. Waits until it listens or fails, at
## most [member startup_timeout_ms]. Returns [code]true[/code] when listening;
## on failure emits [signal server_error] with the reason and returns
## [code]false[/code]. The other options come from this node's properties.
func start(listen_port: int = 8080, listen_host: String = "0.0.0.0") -> bool:
	if _state == _State.LISTENING:
		return _fail_start(("start(%d, \"%s\") called while already listening on port %d: call stop() "
				+ "first") % [listen_port, listen_host, _port])
	if _proc != null:
		_teardown(false)
	_generation += 1
	_reset_session()
	var found := SidecarLocator.locate(sidecar_path)
	if found.has("error"):
		return _fail_start(str(found["error"]))
	_proc = SidecarProcess.new()
	_proc.forward_logs = forward_sidecar_logs
	var spawn_error := _proc.spawn(found["program"], found["args"])
	if not spawn_error.is_empty():
		_proc = null
		return _fail_start(spawn_error)
	_state = _State.STARTING
	_queue_start(listen_port, listen_host)
	_flush()
	var generation := _generation
	var deadline := Time.get_ticks_msec() + startup_timeout_ms
	while _state == _State.STARTING and generation == _generation:
		_pump(true)
		if _state != _State.STARTING or generation != _generation:
			break
		if Time.get_ticks_msec() > deadline:
			_start_error = ("the sidecar (%s) did not report listening within %d ms%s: check the lines above, or raise "
					+ "startup_timeout_ms") % [_proc.program, startup_timeout_ms, _stderr_hint()]
			break
		OS.delay_usec(1000)
	if _state == _State.LISTENING:
		return true
	var reason := _start_error
	if reason.is_empty():
		reason = "the sidecar stopped before it listened"
	_teardown(false)
	return _fail_start(reason)


## Stops listening: every client is closed with 1001 ("going away") and
## reported through [signal client_disconnected], then the sidecar ends.
## Waits at most about two seconds. Does nothing when not started.
func stop() -> void:
	if _proc == null:
		return
	_generation += 1
	if _state == _State.LISTENING and _proc.is_running():
		_state = _State.STOPPING
		_queue_simple(Protocol.CMD_STOP)
		_flush()
		var generation := _generation
		var deadline := Time.get_ticks_msec() + STOP_WAIT_MS
		while _state == _State.STOPPING and generation == _generation and _proc != null:
			_pump(false)
			if _proc == null or not _proc.is_running() or Time.get_ticks_msec() > deadline:
				break
			OS.delay_usec(1000)
		if generation != _generation:
			return
	_teardown(true)


## [code]true[/code] while the server listens.
func is_listening() -> bool:
	return _state == _State.LISTENING


## Reads what the sidecar sent, emits the matching signals in arrival order,
## forwards its log lines, writes the queued commands (in one write unless
## replies pass 16 KiB while handlers run) and notices if the sidecar died.
## Takes more rounds, up to 8, while the pipe comes full. Never blocks. Call
## it every frame (e.g. from [code]_process[/code]) when the server is not in
## the scene tree; in the tree the node calls it itself.
func process() -> void:
	var rounds := 0
	while _proc != null and rounds < MAX_ROUNDS_PER_PROCESS:
		rounds += 1
		if _pump(false) < FULL_PIPE_BYTES:
			break


## Number of connected clients.
func get_client_count() -> int:
	return _clients.size()


## Ids of the connected clients.
func get_client_ids() -> Array[int]:
	var ids: Array[int] = []
	for id: int in _clients:
		ids.append(id)
	return ids


## The real port while listening (useful after starting on port 0), else 0.
func get_port() -> int:
	return _port if _state == _State.LISTENING else 0


## [code]true[/code] while listening with TLS ([code]wss://[/code]).
func is_tls() -> bool:
	return _tls and _state == _State.LISTENING


## Optional features the running sidecar announced ([code]"tls"[/code],
## [code]"permessage-deflate"[/code], [code]"auth"[/code], [code]"rooms"[/code], [code]"stats"[/code]).
func get_capabilities() -> PackedStringArray:
	return _capabilities


## What is known about a connected client: [code]address[/code] (remote IP),
## [code]port[/code] (remote port), [code]path[/code], [code]query[/code]
## (without [code]?[/code]), [code]headers[/code] (lower-case names) and
## [code]subprotocol[/code] (empty when none). Empty when [param client_id] is not connected.
func get_client_info(client_id: int) -> Dictionary:
	var info: Variant = _clients.get(client_id)
	return (info as Dictionary).duplicate(true) if info is Dictionary else {}


## Sends a text message. Returns [constant OK], [constant ERR_UNCONFIGURED]
## when not listening, or [constant ERR_DOES_NOT_EXIST] when
## [param client_id] is not connected.
func send_text(client_id: int, message: String) -> Error:
	var err := _check_client(client_id)
	if err != OK:
		return err
	var at := _begin_frame(3, Protocol.CMD_SEND_TEXT)
	_codec.write_int(_out, client_id)
	_codec.write_str(_out, message)
	_end_frame(at)
	return OK


## Sends a binary message. Returns like [method send_text].
func send_binary(client_id: int, data: PackedByteArray) -> Error:
	var err := _check_client(client_id)
	if err != OK:
		return err
	var at := _begin_frame(3, Protocol.CMD_SEND_BINARY)
	_codec.write_int(_out, client_id)
	_codec.write_bin(_out, data)
	_end_frame(at)
	return OK


## Sends a text message to every client except [param exclude_client_id]
## (0: nobody excluded). Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_text(message: String, exclude_client_id: int = 0) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	var at := _begin_frame(3, Protocol.CMD_BROADCAST_TEXT)
	_codec.write_str(_out, message)
	_codec.write_int(_out, exclude_client_id)
	_end_frame(at)
	return OK


## Sends a binary message to every client except [param exclude_client_id]
## (0: nobody excluded). Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_binary(data: PackedByteArray, exclude_client_id: int = 0) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	var at := _begin_frame(3, Protocol.CMD_BROADCAST_BINARY)
	_codec.write_bin(_out, data)
	_codec.write_int(_out, exclude_client_id)
	_end_frame(at)
	return OK


## Closes a client with [param code] (1000 or 3000-4999) and [param reason]
## (at most 123 bytes of UTF-8). [signal client_disconnected] follows.
## Returns [constant ERR_INVALID_PARAMETER] for another code or a longer
## reason, otherwise like [method send_text].
func disconnect_client(client_id: int, code: int = 1000, reason: String = "") -> Error:
	if code != 1000 and (code < 3000 or code > 4999):
		push_error(("WebSocketServer.disconnect_client: close code %d is not allowed: use 1000 or 3000-4999 (RFC 6455 "
				+ "section "
				+ "7.4)") % code)
		return ERR_INVALID_PARAMETER
	if reason.to_utf8_buffer().size() > 123:
		push_error(("WebSocketServer.disconnect_client: the reason is %d bytes of UTF-8; shorten it to 123 bytes or "
				+ "less") % reason.to_utf8_buffer().size())
		return ERR_INVALID_PARAMETER
	var err := _check_client(client_id)
	if err != OK:
		return err
	var at := _begin_frame(4, Protocol.CMD_DISCONNECT)
	_codec.write_int(_out, client_id)
	_codec.write_int(_out, code)
	_codec.write_str(_out, reason)
	_end_frame(at)
	return OK


## Adds a client to a room (created on first join). Rooms are kept in the
## sidecar; a client leaves all its rooms when it disconnects.
## Returns like [method send_text].
func join_room(client_id: int, room: String) -> Error:
	return _room_membership(Protocol.CMD_JOIN_ROOM, client_id, room)


## Removes a client from a room. Returns like [method send_text].
func leave_room(client_id: int, room: String) -> Error:
	return _room_membership(Protocol.CMD_LEAVE_ROOM, client_id, room)


## Sends a text message to every member of [param room] except
## [param exclude_client_id] (0: nobody excluded). An empty or unknown room
## is not an error. Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_text_to_room(room: String, message: String, exclude_client_id: int = 0) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	var at := _begin_frame(4, Protocol.CMD_ROOM_TEXT)
	_codec.write_str(_out, room)
	_codec.write_str(_out, message)
	_codec.write_int(_out, exclude_client_id)
	_end_frame(at)
	return OK


## Sends a binary message to every member of [param room] except
## [param exclude_client_id]. Returns like [method broadcast_text_to_room].
func broadcast_binary_to_room(room: String, data: PackedByteArray, exclude_client_id: int = 0) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	var at := _begin_frame(4, Protocol.CMD_ROOM_BINARY)
	_codec.write_str(_out, room)
	_codec.write_bin(_out, data)
	_codec.write_int(_out, exclude_client_id)
	_end_frame(at)
	return OK


## Lets the connection of [signal connection_requested] through; it becomes a
## client ([signal client_connected]). [param subprotocol] picks one the client
## offered (empty: the server's own choice). Returns
## [constant ERR_DOES_NOT_EXIST] when the request is not pending.
func accept_connection(request_id: int, subprotocol: String = "") -> Error:
	var err := _check_request(request_id)
	if err != OK:
		return err
	_pending_requests.erase(request_id)
	var at := _begin_frame(3, Protocol.CMD_ACCEPT)
	_codec.write_int(_out, request_id)
	_codec.write_str(_out, subprotocol)
	_end_frame(at)
	return OK


## Refuses the connection of [signal connection_requested] with HTTP
## [param status] (e.g. 401, 403) and [param reason] as the response body.
## Returns like [method accept_connection].
func reject_connection(request_id: int, status: int = 403, reason: String = "") -> Error:
	var err := _check_request(request_id)
	if err != OK:
		return err
	if status < 400 or status > 599:
		push_error("WebSocketServer.reject_connection: HTTP status %d is not an error status: use 400-599" % status)
		return ERR_INVALID_PARAMETER
	_pending_requests.erase(request_id)
	var at := _begin_frame(4, Protocol.CMD_REJECT)
	_codec.write_int(_out, request_id)
	_codec.write_int(_out, status)
	_codec.write_str(_out, reason)
	_end_frame(at)
	return OK


## Asks the sidecar for its counters; [signal stats_received] answers with
## the returned token and a Dictionary ([code]clients[/code], [code]rooms[/code],
## [code]messages_in[/code], [code]bytes_out[/code], [code]rss[/code], ...).
## Returns -1 when the sidecar is not running.
func request_stats() -> int:
	if _proc == null or _state == _State.IDLE:
		return -1
	var token := _next_token
	_next_token += 1
	var at := _begin_frame(2, Protocol.CMD_GET_STATS)
	_codec.write_int(_out, token)
	_end_frame(at)
	return token


# --- Outgoing frames -------------------------------------------------------

# Reserves the length prefix and writes the array header and opcode.
func _begin_frame(element_count: int, opcode: int) -> int:
	var at := _out.size()
	_out.resize(at + 6)
	_out[at + 4] = 0x90 | element_count
	_out[at + 5] = opcode
	return at


func _end_frame(at: int) -> void:
	_out.encode_u32(at, _out.size() - at - 4)


func _queue_simple(opcode: int) -> void:
	var at := _begin_frame(1, opcode)
	_end_frame(at)


func _queue_start(listen_port: int, listen_host: String) -> void:
	var options := {
		"port": listen_port,
		"host": listen_host,
		"path": path,
		"max_message_size": max_message_size,
		"max_clients": max_clients,
		"handshake_timeout_ms": handshake_timeout_ms,
		"heartbeat_interval_ms": heartbeat_interval_ms,
		"heartbeat_timeout_ms": heartbeat_timeout_ms,
		"subprotocols": subprotocols,
		"response_headers": response_headers,
		"allowed_origins": allowed_origins,
		"permessage_deflate": permessage_deflate,
		"tls_cert_path": _global_path(tls_cert_path),
		"tls_key_path": _global_path(tls_key_path),
		"auth": auth,
		"auth_timeout_ms": auth_timeout_ms,
		"max_outbound_buffer": max_outbound_buffer,
		"max_messages_per_second": max_messages_per_second,
		"message_burst": message_burst,
		"multiplayer_peer_ids": multiplayer_peer_ids,
	}
	var at := _begin_frame(3, Protocol.CMD_START)
	_codec.write_int(_out, Protocol.PROTOCOL_VERSION)
	if not _codec.write_value(_out, options):
		push_error("WebSocketServer: " + _codec.error)
	_end_frame(at)


func _flush() -> void:
	if _out.is_empty() or _proc == null:
		return
	if not _proc.write(_out):
		# The liveness check reports a dead sidecar; a live one that refuses a
		# write has a broken pipe.
		if _proc.is_running():
			_fatal("writing %d bytes to the sidecar's stdin failed: the pipe is broken; call start() again" % _out.size())
	_out.clear()


# --- Incoming frames -------------------------------------------------------

# One turn: read, dispatch, drain stderr, write, check the child is alive.
# Returns the bytes read.
func _pump(only_until_started: bool) -> int:
	var generation := _generation
	var got := _proc.read_available(_in, READ_BUDGET_BYTES)
	_dispatch_frames(only_until_started)
	if generation != _generation or _proc == null:
		return got
	_proc.drain_stderr()
	_flush()
	if _proc != null and not _proc.is_running():
		# Dispatch what it wrote before it exited, then report the exit.
		_proc.read_available(_in, READ_BUDGET_BYTES)
		_dispatch_frames(only_until_started)
		if generation != _generation or _proc == null:
			return got
		_on_sidecar_exited()
	return got


func _dispatch_frames(only_until_started: bool) -> void:
	var generation := _generation
	var size := _in.size()
	while size - _in_pos >= 4:
		if _out.size() >= EARLY_FLUSH_BYTES:
			_flush()
			if generation != _generation or _proc == null:
				return
		var length := _in.decode_u32(_in_pos)
		if length == 0 or length > Protocol.MAX_FRAME_LENGTH:
			_fatal(("the sidecar sent an impossible frame length %d (frames hold 1 to %d bytes): the stream is out of step; "
					+ "call start() again, and report it if it repeats") % [length, Protocol.MAX_FRAME_LENGTH])
			return
		var body := _in_pos + 4
		if size - body < length:
			break
		_in_pos = body + length
		if length >= 4 and _in[body] == 0x93 and _fast_message(body, body + length):
			if generation != _generation or _proc == null:
				return
			continue
		var value: Variant = _codec.decode(_in, body, body + length)
		if not _codec.error.is_empty():
			_fatal(("the sidecar sent a frame that is not valid MessagePack (%s): call start() again, and report it if it "
					+ "repeats") % _codec.error)
			return
		_dispatch(value)
		if generation != _generation or _proc == null:
			return
		if only_until_started and _state != _State.STARTING:
			break
	if _in_pos >= size:
		_in.clear()
		_in_pos = 0
	elif _in_pos > 0:
		_in = _in.slice(_in_pos)
		_in_pos = 0


# The hot path: [70, id, str] and [71, id, bin] read straight from the buffer,
# without building an Array. Returns false (nothing emitted) for any other
# shape, which then goes through the general decoder.
func _fast_message(at: int, end: int) -> bool:
	var op: int = _in[at + 1]
	if op != Protocol.EVT_TEXT and op != Protocol.EVT_BINARY:
		return false
	var p := at + 2
	var id: int = _in[p]
	if id < 0x80:
		p += 1
	elif id == 0xcc and end - p >= 2:
		id = _in[p + 1]
		p += 2
	elif id == 0xcd and end - p >= 3:
		id = (_in[p + 1] << 8) | _in[p + 2]
		p += 3
	elif id == 0xce and end - p >= 5:
		id = (_in[p + 1] << 24) | (_in[p + 2] << 16) | (_in[p + 3] << 8) | _in[p + 4]
		p += 5
	else:
		return false
	if p >= end:
		return false
	var h: int = _in[p]
	var n := -1
	if op == Protocol.EVT_TEXT:
		if h >= 0xa0 and h <= 0xbf:
			n = h & 0x1f
			p += 1
		elif h == 0xd9 and end - p >= 2:
			n = _in[p + 1]
			p += 2
		elif h == 0xda and end - p >= 3:
			n = (_in[p + 1] << 8) | _in[p + 2]
			p += 3
		elif h == 0xdb and end - p >= 5:
			n = (_in[p + 1] << 24) | (_in[p + 2] << 16) | (_in[p + 3] << 8) | _in[p + 4]
			p += 5
	else:
		if h == 0xc4 and end - p >= 2:
			n = _in[p + 1]
			p += 2
		elif h == 0xc5 and end - p >= 3:
			n = (_in[p + 1] << 8) | _in[p + 2]
			p += 3
		elif h == 0xc6 and end - p >= 5:
			n = (_in[p + 1] << 24) | (_in[p + 2] << 16) | (_in[p + 3] << 8) | _in[p + 4]
			p += 5
	if n < 0 or p + n != end:
		return false
	if op == Protocol.EVT_TEXT:
		message_received.emit(id, _in.slice(p, end).get_string_from_utf8() if n > 0 else "")
	else:
		data_received.emit(id, _in.slice(p, end))
	return true


func _dispatch(value: Variant) -> void:
	if typeof(value) != TYPE_ARRAY or (value as Array).is_empty() or typeof(value[0]) != TYPE_INT:
		_malformed("a frame that is not an array starting with an opcode", value)
		return
	var event: Array = value
	var n := event.size()
	match event[0]:
		Protocol.EVT_TEXT:
			if n >= 3 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_STRING:
				message_received.emit(event[1], event[2])
				return
		Protocol.EVT_BINARY:
			if n >= 3 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_PACKED_BYTE_ARRAY:
				data_received.emit(event[1], event[2])
				return
		Protocol.EVT_CLIENT_CONNECTED:
			if n >= 3 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_DICTIONARY:
				_clients[event[1]] = event[2]
				client_connected.emit(event[1])
				return
		Protocol.EVT_CLIENT_DISCONNECTED:
			if (n >= 5 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_INT
					and typeof(event[3]) == TYPE_STRING and typeof(event[4]) == TYPE_BOOL):
				_clients.erase(event[1])
				client_disconnected.emit(event[1], event[2])
				client_closed.emit(event[1], event[2], event[3], event[4])
				return
		Protocol.EVT_CONNECTION_REQUEST:
			if n >= 3 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_DICTIONARY:
				_pending_requests[event[1]] = true
				connection_requested.emit(event[1], event[2])
				return
		Protocol.EVT_REQUEST_EXPIRED:
			if n >= 2 and typeof(event[1]) == TYPE_INT:
				_pending_requests.erase(event[1])
				connection_request_expired.emit(event[1])
				return
		Protocol.EVT_ERROR:
			if n >= 4 and typeof(event[1]) == TYPE_STRING and typeof(event[2]) == TYPE_STRING and typeof(event[3]) == TYPE_INT:
				_on_error_event(event[1], event[2], event[3])
				return
		Protocol.EVT_HELLO:
			if n >= 4 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_STRING and typeof(event[3]) == TYPE_ARRAY:
				_on_hello(event[1], event[2], event[3])
				return
		Protocol.EVT_LISTENING:
			if n >= 4 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_STRING and typeof(event[3]) == TYPE_BOOL:
				if _state == _State.STARTING:
					_port = event[1]
					_bound_host = event[2]
					_tls = event[3]
					_state = _State.LISTENING
					server_started.emit(_port)
				return
		Protocol.EVT_START_FAILED:
			if n >= 3 and typeof(event[1]) == TYPE_STRING and typeof(event[2]) == TYPE_STRING:
				_start_error = "%s (%s)" % [event[2], event[1]]
				_state = _State.IDLE
				return
		Protocol.EVT_STOPPED:
			if _state == _State.STOPPING:
				_state = _State.IDLE
			return
		Protocol.EVT_PONG:
			return
		Protocol.EVT_STATS:
			if n >= 3 and typeof(event[1]) == TYPE_INT and typeof(event[2]) == TYPE_DICTIONARY:
				stats_received.emit(event[1], event[2])
				return
		_:
			if event[0] >= 1 and event[0] <= 63:
				_malformed("a command (opcode %d) where events belong" % event[0], value)
			# Unknown event opcodes come from newer sidecars: ignore them.
			return
	_malformed("a %s event of the wrong shape" % Protocol.EVENT_NAMES.get(event[0], "?"), value)


func _on_hello(protocol_version: int, sidecar_version: String, capabilities: Array) -> void:
	_got_hello = true
	_capabilities = PackedStringArray(capabilities.filter(func(c: Variant) -> bool: return c is String))
	if protocol_version != Protocol.PROTOCOL_VERSION:
		_start_error = ("the sidecar speaks protocol %d, this addon speaks %d: rebuild or reinstall the addon so both "
				+ "come from "
				+ "the same release") % [protocol_version, Protocol.PROTOCOL_VERSION]
		_state = _State.IDLE
	elif sidecar_version != Protocol.ADDON_VERSION:
		_start_error = ("the sidecar is version %s, this addon is version %s: rebuild or reinstall the addon so both come "
				+ "from the "
				+ "same release") % [sidecar_version, Protocol.ADDON_VERSION]
		_state = _State.IDLE


func _on_error_event(code: String, message: String, client_id: int) -> void:
	error_reported.emit(code, message, client_id)
	if not INFORMATIONAL_ERRORS.has(code):
		var who := " (client %d)" % client_id if client_id > 0 else ""
		server_error.emit("%s%s: %s" % [code, who, message])


func _on_sidecar_exited() -> void:
	var code := _proc.exit_code()
	var was_starting := _state == _State.STARTING
	if was_starting:
		if _start_error.is_empty():
			_start_error = "the sidecar (%s) exited with code %d before it listened%s" % [_proc.program, code, _stderr_hint()]
		_state = _State.IDLE
		return
	if _state == _State.STOPPING:
		# stop() is waiting for exactly this; it finishes the teardown.
		return
	var was_running := _state == _State.LISTENING
	var message := ("the sidecar (%s) exited unexpectedly with code %d%s; every client was dropped. Call start() to "
			+ "restart it.") % [_proc.program, code, _stderr_hint()]
	_teardown(false)
	if was_running:
		server_error.emit(message)
	_drop_clients(1006, "the server's sidecar process ended")
	server_stopped.emit()


func _fatal(message: String) -> void:
	_generation += 1
	if _state == _State.STARTING:
		_start_error = message
		_state = _State.IDLE
		return
	_teardown(false)
	server_error.emit(message)
	_drop_clients(1006, "the server's sidecar process ended")
	server_stopped.emit()


func _malformed(what: String, value: Variant) -> void:
	var text := var_to_str(value)
	if text.length() > 200:
		text = text.substr(0, 200) + "..."
	server_error.emit(("the sidecar sent %s: %s. The addon and the sidecar do not match: reinstall the addon so both "
			+ "come from the "
			+ "same release") % [what, text])


# --- Helpers ---------------------------------------------------------------

func _teardown(emit_signals: bool) -> void:
	var was_active := _state != _State.IDLE or _proc != null
	if _proc != null:
		_proc.close(1000)
		_proc = null
	_state = _State.IDLE
	_in.clear()
	_in_pos = 0
	_out.clear()
	_pending_requests.clear()
	if emit_signals:
		_drop_clients(1001, "server stopped")
		if was_active:
			server_stopped.emit()


func _drop_clients(code: int, reason: String) -> void:
	var ids := _clients.keys()
	_clients.clear()
	for id: int in ids:
		client_disconnected.emit(id, code)
		client_closed.emit(id, code, reason, false)


func _reset_session() -> void:
	_state = _State.IDLE
	_in.clear()
	_in_pos = 0
	_out.clear()
	_clients.clear()
	_pending_requests.clear()
	_port = 0
	_bound_host = ""
	_tls = false
	_capabilities = []
	_got_hello = false
	_start_error = ""


func _fail_start(reason: String) -> bool:
	var message := "WebSocketServer could not start: " + reason
	server_error.emit(message)
	return false


func _stderr_hint() -> String:
	if _proc == null:
		return ""
	_proc.flush_stderr()
	var lines := _proc.recent_stderr()
	if lines.is_empty():
		return ""
	return " (its last output: %s)" % " | ".join(lines.slice(maxi(0, lines.size() - 3)))


func _check_client(client_id: int) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	if not _clients.has(client_id):
		return ERR_DOES_NOT_EXIST
	return OK


func _check_request(request_id: int) -> Error:
	if _state != _State.LISTENING:
		return ERR_UNCONFIGURED
	if not _pending_requests.has(request_id):
		return ERR_DOES_NOT_EXIST
	return OK


func _room_membership(opcode: int, client_id: int, room: String) -> Error:
	if room.is_empty():
		push_error("WebSocketServer: a room name cannot be empty")
		return ERR_INVALID_PARAMETER
	var err := _check_client(client_id)
	if err != OK:
		return err
	var at := _begin_frame(3, opcode)
	_codec.write_int(_out, client_id)
	_codec.write_str(_out, room)
	_end_frame(at)
	return OK


func _global_path(file_path: String) -> String:
	if file_path.begins_with("res://") or file_path.begins_with("user://"):
		return ProjectSettings.globalize_path(file_path)
	return file_path
