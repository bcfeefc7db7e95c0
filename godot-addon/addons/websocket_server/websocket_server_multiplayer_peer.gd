class_name WebSocketServerMultiplayerPeer
extends MultiplayerPeerExtension
## Godot's high-level multiplayer ([code]@rpc[/code], [MultiplayerSpawner],
## [MultiplayerSynchronizer]) served by a [WebSocketServer] to unchanged, stock
## [WebSocketMultiplayerPeer] clients (desktop and web exports).
##
## Use it where you used [method WebSocketMultiplayerPeer.create_server]:
## [codeblock]
## var peer := WebSocketServerMultiplayerPeer.new()
## peer.server.max_clients = 500   # any WebSocketServer option, TLS, auth...
## var err: Error = peer.create_server(9080, "*")
## multiplayer.multiplayer_peer = peer
## [/codeblock]
## The server side behaves as [WebSocketMultiplayerPeer]'s for everything
## [SceneMultiplayer] relies on: unique id 1, client peer ids from 2, peers
## connecting and leaving, target peers and exclusion (negative target),
## server relay between clients. [SceneMultiplayer] polls
## the peer every frame; the peer pumps [member server] then, so nothing else
## has to call [method WebSocketServer.process].
## [br][br]
## The wire is the stock one: the sidecar sends each client its peer id
## (client id + 1, a little-endian int32) as its first message, as part of
## accepting it; every later message is one packet, passed through untouched.
## A broadcast is one command, fanned out in the sidecar, and so is an
## [code]rpc()[/code] to all, which [SceneMultiplayer] hands over as one
## packet per peer (see [code]multiplayer_outbox.gd[/code]).
## [br][br]
## WebSocket is reliable and ordered: every transfer mode and channel is
## accepted and delivered that way (packets report reliable, channel 0).

const Inbox := preload("res://addons/websocket_server/multiplayer_inbox.gd")
const Outbox := preload("res://addons/websocket_server/multiplayer_outbox.gd")

## Largest packet a stock client takes: [member WebSocketPeer.inbound_buffer_size]'s default.
const MAX_PACKET_SIZE: int = 65535
## Room (see [method WebSocketServer.join_room]) holding the announced peers,
## so a broadcast reaches exactly the peers [SceneMultiplayer] knows about.
const PEERS_ROOM: String = "websocket_server_multiplayer_peer"
## Times one poll pumps [member server] again after [SceneMultiplayer] handled
## the packets, to send its answers in the same frame and take what came meanwhile.
const MAX_EXTRA_PUMPS: int = 4
## Close code for a client that connects while new connections are refused.
const REFUSED_CODE: int = 4000

## The [WebSocketServer] that carries the packets: set its options before
## [method create_server], read client details (by client id, peer id − 1)
## after. Read-only.
var server: WebSocketServer:
	get:
		return _server
	set(_value):
		push_error("WebSocketServerMultiplayerPeer.server is read-only: set its properties instead")

var _server: WebSocketServer = WebSocketServer.new()
var _status: MultiplayerPeer.ConnectionStatus = MultiplayerPeer.CONNECTION_DISCONNECTED
var _target_peer: int = 0
var _transfer_mode: MultiplayerPeer.TransferMode = MultiplayerPeer.TRANSFER_MODE_RELIABLE
var _transfer_channel: int = 0
var _refusing: bool = false
## Announced peer ids (the ones [signal MultiplayerPeer.peer_connected] named), as keys.
var _peers: Dictionary = {}
var _inbox: Inbox = Inbox.new()
## Peers that left with packets still unread: announced gone on the next poll,
## after [SceneMultiplayer] has read their last packets.
var _departed: PackedInt32Array = PackedInt32Array()
var _last_error: String = ""
## Packets were handed to SceneMultiplayer since the last pump.
var _delivered: bool = false
## Pumps this poll made after SceneMultiplayer handled the packets (see [constant MAX_EXTRA_PUMPS]).
var _extra_pumps: int = 0
var _outbox: Outbox = Outbox.new(_server, PEERS_ROOM, _peers)


func _init() -> void:
	_server.multiplayer_peer_ids = true
	_server.client_connected.connect(_on_client_connected)
	_server.client_disconnected.connect(_on_client_disconnected)
	_server.data_received.connect(_on_data_received)
	_server.message_received.connect(_on_message_received)
	_server.server_stopped.connect(_on_server_stopped)
	_server.server_error.connect(_on_server_error)


func _notification(what: int) -> void:
	if what == NOTIFICATION_PREDELETE and is_instance_valid(_server):
		_server.free()


## Listens on [param port] at [param bind_address] ([code]"*"[/code]: every
## interface, IPv6 and IPv4, as Godot's own server does). Returns [constant OK]
## once listening; otherwise an error, with the reason in
## [signal WebSocketServer.server_error] of [member server]:
## [constant ERR_ALREADY_IN_USE] when already listening or the port is taken,
## [constant ERR_INVALID_PARAMETER] for a bad option, [constant ERR_CANT_CREATE]
## for any other failure.
func create_server(port: int, bind_address: String = "*") -> Error:
	if _status != MultiplayerPeer.CONNECTION_DISCONNECTED:
		return ERR_ALREADY_IN_USE
	_clear()
	_last_error = ""
	var listening := _server.start(port, "::" if bind_address == "*" else bind_address)
	if not listening and bind_address == "*" and _last_error.contains("address_not_available"):
		listening = _server.start(port, "0.0.0.0")  # A machine without IPv6.
	if not listening:
		return _start_error(_last_error)
	_status = MultiplayerPeer.CONNECTION_CONNECTED
	return OK


func _poll() -> void:
	_inbox.compact()
	var departed := _departed
	_departed = PackedInt32Array()
	for peer_id: int in departed:
		if _inbox.holds_from(peer_id):
			_departed.append(peer_id)  # SceneMultiplayer stopped early last frame: not read yet.
		else:
			peer_disconnected.emit(peer_id)
	if _status == MultiplayerPeer.CONNECTION_CONNECTED:
		_extra_pumps = 0
		_pump()


func _close() -> void:
	if _status == MultiplayerPeer.CONNECTION_DISCONNECTED:
		return
	# As Godot's server: closing says nothing per peer; SceneMultiplayer sees the status change.
	_status = MultiplayerPeer.CONNECTION_DISCONNECTED
	_outbox.clear()
	_server.stop()
	_clear()


func _disconnect_peer(peer_id: int, force: bool) -> void:
	if not _peers.has(peer_id):
		return
	_outbox.flush()
	_server.disconnect_client(peer_id - 1)
	if force:
		# A forced disconnect emits no peer_disconnected (MultiplayerPeer's contract).
		_peers.erase(peer_id)
		_server.leave_room(peer_id - 1, PEERS_ROOM)


func _put_packet_script(buffer: PackedByteArray) -> Error:
	if _status != MultiplayerPeer.CONNECTION_CONNECTED:
		return ERR_UNCONFIGURED
	if _target_peer > 0:
		if not _peers.has(_target_peer):
			return ERR_INVALID_PARAMETER
		_outbox.send(_target_peer, buffer)
		return OK
	# 0: every peer; -N: every peer but N.
	return _outbox.broadcast(buffer, -_target_peer)


func _get_packet_script() -> PackedByteArray:
	_delivered = true
	return _inbox.take()


func _get_available_packet_count() -> int:
	var count := _inbox.count()
	if count == 0 and _delivered and _extra_pumps < MAX_EXTRA_PUMPS and _status == MultiplayerPeer.CONNECTION_CONNECTED:
		# SceneMultiplayer asks once it has handled every packet of this poll: its answers are queued
		# now, so send them this frame rather than the next (and take what arrived meanwhile).
		_extra_pumps += 1
		_pump()
		count = _inbox.count()
	return count


func _get_packet_peer() -> int:
	return _inbox.next_peer()


func _get_packet_mode() -> MultiplayerPeer.TransferMode:
	return MultiplayerPeer.TRANSFER_MODE_RELIABLE


func _get_packet_channel() -> int:
	return 0


func _get_max_packet_size() -> int:
	return MAX_PACKET_SIZE


func _set_transfer_mode(mode: MultiplayerPeer.TransferMode) -> void:
	_transfer_mode = mode


func _get_transfer_mode() -> MultiplayerPeer.TransferMode:
	return _transfer_mode


func _set_transfer_channel(channel: int) -> void:
	_transfer_channel = channel


func _get_transfer_channel() -> int:
	return _transfer_channel


func _set_target_peer(peer_id: int) -> void:
	_target_peer = peer_id


func _get_unique_id() -> int:
	return 1 if _status == MultiplayerPeer.CONNECTION_CONNECTED else 0


func _is_server() -> bool:
	return _status == MultiplayerPeer.CONNECTION_CONNECTED


func _is_server_relay_supported() -> bool:
	return true


func _set_refuse_new_connections(enable: bool) -> void:
	_refusing = enable


func _is_refusing_new_connections() -> bool:
	return _refusing


func _get_connection_status() -> MultiplayerPeer.ConnectionStatus:
	return _status


func _pump() -> void:
	_delivered = false
	_outbox.flush()
	_server.process()


func _on_client_connected(client_id: int) -> void:
	if _status != MultiplayerPeer.CONNECTION_CONNECTED:
		return
	_outbox.flush()  # What is held went to the peers announced so far: the room must not grow first.
	if _refusing:
		# The sidecar already sent the id, so the client sees a connection that closes at once.
		_server.disconnect_client(client_id, REFUSED_CODE, "the server refuses new connections")
		return
	var peer_id := client_id + 1
	_peers[peer_id] = true
	_server.join_room(client_id, PEERS_ROOM)
	peer_connected.emit(peer_id)


func _on_client_disconnected(client_id: int, _code: int) -> void:
	var peer_id := client_id + 1
	if _status != MultiplayerPeer.CONNECTION_CONNECTED or not _peers.has(peer_id):
		return
	_outbox.flush()
	_peers.erase(peer_id)
	if _inbox.holds_from(peer_id):
		_departed.append(peer_id)
	else:
		peer_disconnected.emit(peer_id)


func _on_data_received(client_id: int, data: PackedByteArray) -> void:
	# An empty message carries no packet (Godot's server drops it too); handed over, it would make
	# SceneMultiplayer's get_packet fail and end that frame's reading early.
	if not data.is_empty() and _peers.has(client_id + 1):
		_inbox.push(client_id + 1, data)


func _on_message_received(client_id: int, message: String) -> void:
	# Stock clients send binary only; a text message is a packet of its bytes, as Godot's server reads it.
	_on_data_received(client_id, message.to_utf8_buffer())


func _on_server_stopped() -> void:
	# The sidecar ended: every client was reported gone (client_disconnected) just before.
	_status = MultiplayerPeer.CONNECTION_DISCONNECTED
	_clear()


func _on_server_error(message: String) -> void:
	_last_error = message


func _clear() -> void:
	_outbox.clear()
	_peers.clear()
	_departed = PackedInt32Array()
	_inbox.clear()


func _start_error(reason: String) -> Error:
	if reason.contains("address_in_use") or reason.contains("already listening"):
		return ERR_ALREADY_IN_USE
	if reason.contains("invalid_option") or reason.contains("tls_"):
		return ERR_INVALID_PARAMETER
	return ERR_CANT_CREATE
