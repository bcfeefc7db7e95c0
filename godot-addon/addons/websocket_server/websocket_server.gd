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
## Emitted with the answer to [method request_room_members]: the room's members
## on every server of the cluster (on this one alone without [member cluster_url]).
signal room_members_received(token: int, room: String, client_ids: Array[int])
## Emitted with the answer to [method request_cluster_stats]: [code]servers[/code],
## [code]clients[/code], [code]clients_per_server[/code] (node number as a String to
## client count), [code]node[/code], [code]enabled[/code] and [code]connected[/code].
signal cluster_stats_received(token: int, stats: Dictionary)

const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")
const CommandGate := preload("res://addons/websocket_server/command_gate.gd")
const ClusterRequests := preload("res://addons/websocket_server/cluster_requests.gd")
const ProcessLoop := preload("res://addons/websocket_server/process_loop.gd")
const StartOptions := preload("res://addons/websocket_server/start_options.gd")
const GodotVersion := preload("res://addons/websocket_server/godot_version.gd")

## Error codes reported only through [signal error_reported]: they describe
## expected races (a client that left before a queued command reached it) or
## refused upgrades, not faults.
const INFORMATIONAL_ERRORS: PackedStringArray = SidecarSession.EventReader.INFORMATIONAL_ERRORS

## TCP port used when the node starts itself ([member autostart]).
## 0 picks a free port; see [method get_port].
@export_range(0, 65535) var port: int = 8080
## Address to bind when the node starts itself: IPv4, IPv6 ([code]"::"[/code]) or a host name.
@export var host: String = "0.0.0.0"
## When [code]true[/code], the node calls [code]start(port, host)[/code] once it is ready (deferred, so a
## parent's [method Node._ready] can connect [signal server_error] first; not in the editor).
@export var autostart: bool = false

@export_group("Connections")
## When not empty, only upgrades to this exact path (e.g. [code]"/game"[/code]) are accepted; others get 404.
@export var path: String = ""
## Most simultaneous clients; 0 for no limit. Upgrades past it get 503.
@export_range(0, 2147483647) var max_clients: int = 0
## Largest incoming message in bytes (at most 128 MiB); bigger ones close the client with 1009.
@export_range(1, 134217728) var max_message_size: int = 1048576
## Bytes queued to one client before it is closed with 1008 (a client that stopped reading);
## from 1024 to 4 GiB.
@export_range(1024, 4294967296) var max_outbound_buffer: int = 4194304
## A connection must finish its upgrade within this many milliseconds.
@export_range(1, 2147483647) var handshake_timeout_ms: int = 5000
## Ping every client this often (milliseconds); 0 turns heartbeats off.
@export_range(0, 2147483647) var heartbeat_interval_ms: int = 30000
## A client that does not answer a ping within this many milliseconds is dropped (1006).
@export_range(1, 2147483647) var heartbeat_timeout_ms: int = 10000
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
@export_range(0, 2147483647) var max_messages_per_second: int = 0
## Messages a client may send at once before [member max_messages_per_second]
## applies; 0 means one second's worth. Used only with a rate.
@export_range(0, 2147483647) var message_burst: int = 0
## A closing handshake (either side started it) not finished within this many
## milliseconds ends the TCP connection; the client is then reported gone.
@export_range(1, 60000) var close_timeout_ms: int = 1000
## Bytes of unfinished incoming messages held for all clients together; the
## client whose data crosses it is closed with 1008.
@export_range(1, 2147483647) var max_inbound_total: int = 67108864
## Bytes of events the sidecar holds while the game is not reading; meanwhile
## no new connection is admitted (upgrades get 503).
@export_range(1024, 2147483647) var max_queued_events: int = 16777216

@export_group("Authentication")
## When [code]true[/code], every upgrade waits for [method accept_connection] or
## [method reject_connection] after [signal connection_requested].
@export var auth: bool = false
## Requests not answered within this many milliseconds are rejected with 503.
@export_range(1, 2147483647) var auth_timeout_ms: int = 5000
## Most connection requests waiting for an answer; upgrades past it get 503.
@export_range(1, 65535) var max_pending_requests: int = 1000

@export_group("TLS")
## PEM certificate chain. With [member tls_key_path] set too the server speaks
## [code]wss://[/code] (TLS 1.2 minimum). [code]res://[/code] and
## [code]user://[/code] paths work when they are real files on disk.
@export_global_file("*.pem", "*.crt") var tls_cert_path: String = ""
## PEM private key for [member tls_cert_path].
@export_global_file("*.pem", "*.key") var tls_key_path: String = ""

@export_group("Cluster")
## A Redis URL ([code]redis://[user:password@]host:port[/code], or
## [code]rediss://[/code] for TLS). When set, broadcasts, room broadcasts, sends
## and [method disconnect_client] reach clients of every server using the same
## Redis; client ids then carry the server's node number in their high bits.
## Empty: no cluster.
@export var cluster_url: String = ""
## A server killed without saying goodbye leaves the cluster's presence within
## this many milliseconds.
@export_range(100, 600000) var cluster_presence_ttl_ms: int = 15000
## When not 0, Prometheus metrics are served at
## [code]http://metrics_host:metrics_port/metrics[/code].
@export_range(0, 65535) var metrics_port: int = 0
## Address the metrics endpoint binds; the default keeps it on this machine.
@export var metrics_host: String = "127.0.0.1"

@export_group("Sidecar")
## Explicit path of the sidecar executable (or of a [code].cjs[/code] file
## to run with node). Empty: look for it as the README describes.
@export_global_file var sidecar_path: String = ""
## How long [method start] waits for the sidecar to listen, in milliseconds.
@export_range(100, 60000, 1, "or_greater") var startup_timeout_ms: int = 10000
## When [code]false[/code], the sidecar's log lines are not forwarded to the Output.
@export var forward_sidecar_logs: bool = true
## Most milliseconds one [method process] call spends dispatching events; the
## rest stays queued, in order, for the next call. Checked between events, so
## one slow handler may overrun it. 0: no limit.
@export_range(0, 1000) var process_budget_ms: int = 4

## When [code]true[/code], each client's first message is its Godot multiplayer
## peer id, sent by the sidecar (start option [code]multiplayer_peer_ids[/code]).
## [WebSocketServerMultiplayerPeer] sets it; not shown in the Inspector.
var multiplayer_peer_ids: bool = false

var _session: SidecarSession
var _gate: CommandGate
var _cluster: ClusterRequests
var _loop: ProcessLoop


func _init() -> void:
	_session = SidecarSession.new(self)
	_gate = CommandGate.new(_session)
	_cluster = ClusterRequests.new(_session)
	_loop = ProcessLoop.new(_session)


func _ready() -> void:
	if autostart and not Engine.is_editor_hint():
		start.call_deferred(port, host)


func _process(_delta: float) -> void:
	if _session.child != null:
		process()


func _notification(what: int) -> void:
	if _session.child == null:
		return
	if what == NOTIFICATION_WM_CLOSE_REQUEST:
		# The game may quit before the next frame: what was sent must not wait for it.
		_session.flush()
	elif what == NOTIFICATION_PREDELETE:
		# Freed or the game is quitting: deliver what was sent, then end the
		# sidecar without signals.
		_session.flush()
		if _session.child != null:
			_session.child.forward_logs = false
			_session.teardown(false)


## Starts the sidecar and makes it listen on [param listen_port] (0 picks a
## free one, see [method get_port]) at [param listen_host]. Waits until it listens or fails, at
## most [member startup_timeout_ms]. Returns [code]true[/code] when listening;
## on failure emits [signal server_error] with the reason and returns
## [code]false[/code]. The other options come from this node's properties.
func start(listen_port: int = 8080, listen_host: String = "0.0.0.0") -> bool:
	var too_old := GodotVersion.unsupported_reason(Engine.get_version_info())
	if not too_old.is_empty():
		server_error.emit("WebSocketServer could not start: " + too_old)
		return false
	var error := _session.start(StartOptions.of(self, listen_port, listen_host), sidecar_path, forward_sidecar_logs,
			startup_timeout_ms)
	if not error.is_empty():
		# Also to the Output: a failing autostart may have no handler yet.
		push_error("WebSocketServer could not start: " + error)
		server_error.emit("WebSocketServer could not start: " + error)
	return error.is_empty()


## Stops listening: every client is closed with 1001 ("going away") and
## reported through [signal client_disconnected], then the sidecar ends.
## Waits at most about two seconds. Does nothing when not started.
func stop() -> void:
	_session.stop()


## [code]true[/code] while the server listens.
func is_listening() -> bool:
	return _session.state == SidecarSession.State.LISTENING


## Reads what the sidecar sent, emits the matching signals in arrival order,
## forwards its log lines, writes the queued commands (in one write unless
## replies pass 16 KiB while handlers run) and notices if the sidecar died.
## Takes more rounds, up to 8, while the pipe comes full, and stops
## dispatching after [member process_budget_ms]; the rest waits, in order, for
## the next call. Never blocks. Called from one of its own signal handlers it
## returns at once and does nothing. Call it every frame (e.g. from
## [code]_process[/code]) when the server is not in the scene tree; in the
## tree the node calls it itself.
func process() -> void:
	_loop.run(process_budget_ms)


## Number of connected clients.
func get_client_count() -> int:
	return _session.clients.size()


## Ids of the connected clients.
func get_client_ids() -> Array[int]:
	var ids: Array[int] = []
	ids.assign(_session.clients.keys())
	return ids


## The real port while listening (useful after starting on port 0), else 0.
func get_port() -> int:
	return _session.port if is_listening() else 0


## [code]true[/code] while listening with TLS ([code]wss://[/code]).
func is_tls() -> bool:
	return _session.tls and is_listening()


## Optional features the running sidecar announced ([code]"tls"[/code],
## [code]"permessage-deflate"[/code], [code]"auth"[/code], [code]"rooms"[/code], [code]"stats"[/code]).
func get_capabilities() -> PackedStringArray:
	return _session.capabilities


## What is known about a connected client: [code]address[/code] (remote IP),
## [code]port[/code] (remote port), [code]path[/code], [code]query[/code]
## (without [code]?[/code]), [code]headers[/code] (lower-case names) and
## [code]subprotocol[/code] (empty when none). Empty when [param client_id] is not connected.
func get_client_info(client_id: int) -> Dictionary:
	var info: Variant = _session.clients.get(client_id)
	return (info as Dictionary).duplicate(true) if info is Dictionary else {}


## Sends a text message. Returns [constant OK], [constant ERR_UNCONFIGURED]
## when not listening, or [constant ERR_DOES_NOT_EXIST] when
## [param client_id] is not connected.
func send_text(client_id: int, message: String) -> Error:
	return _gate.send_text(client_id, message)


## Sends a binary message. Returns like [method send_text].
func send_binary(client_id: int, data: PackedByteArray) -> Error:
	return _gate.send_binary(client_id, data)


## Sends a text message to every client except [param exclude_client_id]
## (0: nobody excluded). Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_text(message: String, exclude_client_id: int = 0) -> Error:
	return _gate.broadcast_text(message, exclude_client_id)


## Sends a binary message to every client except [param exclude_client_id]
## (0: nobody excluded). Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_binary(data: PackedByteArray, exclude_client_id: int = 0) -> Error:
	return _gate.broadcast_binary(data, exclude_client_id)


## Closes a client with [param code] (1000 or 3000-4999) and [param reason]
## (at most 123 bytes of UTF-8). [signal client_disconnected] follows.
## Returns [constant ERR_INVALID_PARAMETER] for another code or a longer
## reason, otherwise like [method send_text].
func disconnect_client(client_id: int, code: int = 1000, reason: String = "") -> Error:
	return _gate.disconnect_client(client_id, code, reason)


## Adds a client to a room (created on first join). Rooms are kept in the
## sidecar; a client leaves all its rooms when it disconnects.
## Returns like [method send_text].
func join_room(client_id: int, room: String) -> Error:
	return _gate.join_room(client_id, room)


## Removes a client from a room. Returns like [method send_text].
func leave_room(client_id: int, room: String) -> Error:
	return _gate.leave_room(client_id, room)


## Sends a text message to every member of [param room] except
## [param exclude_client_id] (0: nobody excluded). An empty or unknown room
## is not an error. Returns [constant ERR_UNCONFIGURED] when not listening.
func broadcast_text_to_room(room: String, message: String, exclude_client_id: int = 0) -> Error:
	return _gate.room_text(room, message, exclude_client_id)


## Sends a binary message to every member of [param room] except
## [param exclude_client_id]. Returns like [method broadcast_text_to_room].
func broadcast_binary_to_room(room: String, data: PackedByteArray, exclude_client_id: int = 0) -> Error:
	return _gate.room_binary(room, data, exclude_client_id)


## Lets the connection of [signal connection_requested] through; it becomes a
## client ([signal client_connected]). [param subprotocol] picks one the client
## offered (empty: the server's own choice). Returns
## [constant ERR_DOES_NOT_EXIST] when the request is not pending.
func accept_connection(request_id: int, subprotocol: String = "") -> Error:
	return _gate.accept(request_id, subprotocol)


## Refuses the connection of [signal connection_requested] with HTTP
## [param status] (e.g. 401, 403) and [param reason] as the response body.
## Returns like [method accept_connection].
func reject_connection(request_id: int, status: int = 403, reason: String = "") -> Error:
	return _gate.reject(request_id, status, reason)


## Asks the sidecar for its counters; [signal stats_received] answers with
## the returned token and a Dictionary ([code]clients[/code], [code]rooms[/code],
## [code]messages_in[/code], [code]bytes_out[/code], [code]rss[/code], ...).
## Returns -1 when the sidecar is not running.
func request_stats() -> int:
	return _gate.request_stats()


## Asks for the members of [param room] on every server of the cluster;
## [signal room_members_received] answers with the returned token.
## Returns -1 when the sidecar is not running.
func request_room_members(room: String) -> int:
	return _cluster.request_room_members(room)


## Asks for the cluster's servers and their client counts;
## [signal cluster_stats_received] answers with the returned token.
## Returns -1 when the sidecar is not running.
func request_cluster_stats() -> int:
	return _cluster.request_cluster_stats()

