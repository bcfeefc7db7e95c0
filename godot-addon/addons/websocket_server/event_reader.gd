extends RefCounted
## Splits the sidecar's stdout into frames, checks the shape of every event and
## hands it on.
##
## Bytes read from the pipe are appended to [member buffer]; [method read_frames]
## takes every whole frame from it. [code]text[/code] and [code]binary[/code]
## events, nearly all the traffic, take a fast path: read straight from the
## buffer with the codec's tag-family reader and emitted through the node's
## [code]message_received[/code] and [code]data_received[/code] signals without
## building an Array. Every other event is decoded and shape-checked: a wrong
## shape, [code]error[/code], [code]stats[/code], [code]room_members[/code] and
## [code]cluster_stats[/code] become the node's signals
## here; the rest is passed to a handler (the session), one call with typed
## arguments each: [code]on_hello[/code], [code]on_listening[/code],
## [code]on_start_failed[/code], [code]on_stopped[/code],
## [code]on_client_connected[/code], [code]on_client_disconnected[/code],
## [code]on_connection_request[/code], [code]on_request_expired[/code],
## [code]on_consumed[/code], plus
## [code]fatal[/code] for a broken stream, [code]flush[/code] and
## [code]is_starting[/code].
## [br][br]
## Handlers run user code, which may stop, restart or free the server: the
## session calls [method interrupt] or [method reset] then, and the loop in
## progress returns at once.

const Protocol := preload("res://addons/websocket_server/protocol.gd")
const MsgPack := preload("res://addons/websocket_server/msgpack.gd")
const CommandWriter := preload("res://addons/websocket_server/command_writer.gd")

## Error codes reported only through [code]error_reported[/code]: expected races
## (a client that left, or began closing, before a queued command reached it) or
## refused upgrades; PROTOCOL.md calls them informational.
const INFORMATIONAL_ERRORS: PackedStringArray = [
	"rejected_connection", "unknown_client", "unknown_request", "client_closing",
	"cluster_restored",
]
## While handlers answer a batch of messages, replies leave once this many bytes
## wait, so the sidecar works on them while the rest of the batch is handled
## (and they come back in time for the next frame) instead of after it.
const EARLY_FLUSH_BYTES: int = 16 * 1024

## Bytes from the sidecar not yet dispatched; the session appends to it.
var buffer: PackedByteArray = PackedByteArray()

var _pos: int = 0
var _epoch: int = 0
# Epoch of the read_frames call in progress, -1 when none.
var _reading_epoch: int = -1
var _codec: MsgPack = MsgPack.new()
var _commands: CommandWriter
var _message_received: Signal
var _data_received: Signal
var _error_reported: Signal
var _server_error: Signal
var _stats_received: Signal
var _room_members_received: Signal
var _cluster_stats_received: Signal


## [param commands] is checked for an early flush between frames;
## [param server] is the node whose signals are emitted.
func _init(commands: CommandWriter, server: Node) -> void:
	_commands = commands
	_message_received = Signal(server, &"message_received")
	_data_received = Signal(server, &"data_received")
	_error_reported = Signal(server, &"error_reported")
	_server_error = Signal(server, &"server_error")
	_stats_received = Signal(server, &"stats_received")
	_room_members_received = Signal(server, &"room_members_received")
	_cluster_stats_received = Signal(server, &"cluster_stats_received")


## Drops every unread byte and ends a [method read_frames] loop in progress.
func reset() -> void:
	buffer.clear()
	_pos = 0
	_epoch += 1


## Ends a [method read_frames] loop in progress, keeping the unread bytes: a
## new loop (e.g. in [code]stop()[/code]) carries on from where it stopped.
func interrupt() -> void:
	_epoch += 1


## Dispatches every whole frame in [member buffer] to [param handler], in
## order. With [param only_until_started], stops after the event that ends
## the start (while [code]handler.is_starting()[/code] turns false), leaving
## the rest for the next call. Past [param deadline_usec]
## ([method Time.get_ticks_usec]; 0: none), checked between frames, it stops
## and leaves the rest, in order, for the next call.
## [br][br]
## Called again from a handler while a call runs, it returns at once: the
## outer call owns [member buffer] and its position. After [method interrupt]
## or [method reset] a new call may run (stop() and start() from a handler),
## and the outer one then returns as soon as its handler does.
func read_frames(handler: Object, only_until_started: bool, deadline_usec: int = 0) -> void:
	if _reading_epoch == _epoch:
		return
	var outer := _reading_epoch
	_reading_epoch = _epoch
	_read_frames(handler, only_until_started, deadline_usec)
	_reading_epoch = outer


func _read_frames(handler: Object, only_until_started: bool, deadline_usec: int) -> void:
	var epoch := _epoch
	var size := buffer.size()
	while size - _pos >= 4:
		if deadline_usec > 0 and Time.get_ticks_usec() >= deadline_usec:
			break
		if _commands.buffer.size() >= EARLY_FLUSH_BYTES:
			handler.flush()
			if epoch != _epoch:
				return
		var length := buffer.decode_u32(_pos)
		if length == 0 or length > Protocol.MAX_FRAME_LENGTH:
			handler.fatal(("the sidecar sent an impossible frame length %d (frames hold 1 to %d bytes): "
					+ "the stream is out of step; call start() again, and report it if it repeats")
					% [length, Protocol.MAX_FRAME_LENGTH])
			return
		var body := _pos + 4
		if size - body < length:
			break
		_pos = body + length
		if _fast_message(body, _pos):
			if epoch != _epoch:
				return
			continue
		var value: Variant = _codec.decode(buffer, body, _pos)
		if not _codec.error.is_empty():
			handler.fatal(("the sidecar sent a frame that is not valid MessagePack (%s): "
					+ "call start() again, and report it if it repeats") % _codec.error)
			return
		dispatch(handler, value)
		if epoch != _epoch:
			return
		if only_until_started and not handler.is_starting():
			break
	# buffer.size(), not size: a handler's pump may have appended more meanwhile.
	if _pos >= buffer.size():
		buffer.clear()
		_pos = 0
	elif _pos > 0:
		buffer = buffer.slice(_pos)
		_pos = 0


## Checks the shape of one decoded event and passes it to [param handler];
## a wrong shape is reported through the node's [code]server_error[/code].
func dispatch(handler: Object, value: Variant) -> void:
	if typeof(value) != TYPE_ARRAY or (value as Array).is_empty() or typeof(value[0]) != TYPE_INT:
		_malformed("a frame that is not an array starting with an opcode", value)
		return
	var event: Array = value
	if _dispatch_event(handler, event):
		return
	var op: int = event[0]
	if op >= 1 and op <= 63:
		_malformed("a command (opcode %d) where events belong" % op, value)
	elif Protocol.EVENT_NAMES.has(op):
		_malformed("a %s event of the wrong shape" % Protocol.EVENT_NAMES[op], value)
	# Unknown event opcodes come from newer sidecars: ignore them.


# Passes a well-formed event on; false when its shape is wrong or its opcode unknown.
# gdlint:disable=max-returns
func _dispatch_event(handler: Object, event: Array) -> bool:
	var n := event.size()
	match event[0]:
		Protocol.EVT_TEXT:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_STRING]):
				_message_received.emit(event[1], event[2])
				return true
		Protocol.EVT_BINARY:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_PACKED_BYTE_ARRAY]):
				_data_received.emit(event[1], event[2])
				return true
		Protocol.EVT_CLIENT_CONNECTED:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_DICTIONARY]):
				handler.on_client_connected(event[1], event[2])
				return true
		Protocol.EVT_CLIENT_DISCONNECTED:
			if n >= 5 and _types(event, [TYPE_INT, TYPE_INT, TYPE_STRING, TYPE_BOOL]):
				handler.on_client_disconnected(event[1], event[2], event[3], event[4])
				return true
		Protocol.EVT_CONNECTION_REQUEST:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_DICTIONARY]):
				handler.on_connection_request(event[1], event[2])
				return true
		Protocol.EVT_REQUEST_EXPIRED:
			if n >= 2 and _types(event, [TYPE_INT]):
				handler.on_request_expired(event[1])
				return true
		Protocol.EVT_ERROR:
			if n >= 4 and _types(event, [TYPE_STRING, TYPE_STRING, TYPE_INT]):
				_error_reported.emit(event[1], event[2], event[3])
				if not INFORMATIONAL_ERRORS.has(event[1]):
					var who := " (client %d)" % event[3] if event[3] > 0 else ""
					_server_error.emit("%s%s: %s" % [event[1], who, event[2]])
				return true
		Protocol.EVT_HELLO:
			if n >= 4 and _types(event, [TYPE_INT, TYPE_STRING, TYPE_ARRAY]):
				handler.on_hello(event[1], event[2], event[3])
				return true
		Protocol.EVT_LISTENING:
			if n >= 4 and _types(event, [TYPE_INT, TYPE_STRING, TYPE_BOOL]):
				handler.on_listening(event[1], event[3])
				return true
		Protocol.EVT_START_FAILED:
			if n >= 3 and _types(event, [TYPE_STRING, TYPE_STRING]):
				handler.on_start_failed(event[1], event[2])
				return true
		Protocol.EVT_STOPPED:
			handler.on_stopped()
			return true
		Protocol.EVT_CONSUMED:
			if n >= 2 and _types(event, [TYPE_INT]):
				handler.on_consumed(event[1])
				return true
		Protocol.EVT_PONG:
			return true
		Protocol.EVT_STATS:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_DICTIONARY]):
				_stats_received.emit(event[1], event[2])
				return true
		Protocol.EVT_ROOM_MEMBERS:
			if n >= 4 and _types(event, [TYPE_INT, TYPE_STRING, TYPE_ARRAY]):
				var ids: Array[int] = []
				ids.assign(event[3])
				_room_members_received.emit(event[1], event[2], ids)
				return true
		Protocol.EVT_CLUSTER_STATS:
			if n >= 3 and _types(event, [TYPE_INT, TYPE_DICTIONARY]):
				_cluster_stats_received.emit(event[1], event[2])
				return true
	return false
# gdlint:enable=max-returns


func _malformed(what: String, value: Variant) -> void:
	var text := var_to_str(value)
	if text.length() > 200:
		text = text.substr(0, 200) + "..."
	_server_error.emit(("the sidecar sent %s: %s. "
			+ "The addon and the sidecar do not match: reinstall the addon so both come from the same release")
			% [what, text])


# True when the arguments after the opcode have [param types], in order.
func _types(event: Array, types: Array[int]) -> bool:
	for i: int in types.size():
		if typeof(event[i + 1]) != types[i]:
			return false
	return true


# The hot path: [70, id, str] and [71, id, bin] read straight from the buffer
# by the codec, without building an Array. Returns false (nothing emitted) for
# any other shape, which then goes through the general decoder and its checks.
func _fast_message(at: int, end: int) -> bool:
	var n := _codec.read_message(buffer, at, end, Protocol.EVT_TEXT, Protocol.EVT_BINARY)
	if n < 0:
		return false
	if buffer[at + 1] == Protocol.EVT_TEXT:
		var bytes := buffer.slice(end - n, end)
		var text := bytes.get_string_from_utf8()
		# Shorter than its bytes: multi-byte text, or cut at a NUL (defect 14).
		if text.length() != n and bytes.has(0):
			text = utf8_text(bytes)
		_message_received.emit(_codec.message_client_id, text)
	else:
		_data_received.emit(_codec.message_client_id, buffer.slice(end - n, end))
	return true


## [param bytes] (valid UTF-8) as a String, U+0000 included:
## [method PackedByteArray.get_string_from_utf8] stops at the first NUL byte,
## so the bytes are decoded between NULs and joined with U+0000.
static func utf8_text(bytes: PackedByteArray) -> String:
	if not bytes.has(0):
		return bytes.get_string_from_utf8()
	var parts: PackedStringArray = []
	var from := 0
	var nul := bytes.find(0)
	while nul >= 0:
		parts.append(bytes.slice(from, nul).get_string_from_utf8())
		from = nul + 1
		nul = bytes.find(0, from)
	parts.append(bytes.slice(from).get_string_from_utf8())
	return String.chr(0).join(parts)
