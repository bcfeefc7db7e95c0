extends RefCounted
## The packets a [WebSocketServerMultiplayerPeer] sends, turned into as few
## [WebSocketServer] commands as possible.
##
## [SceneMultiplayer] sends an [code]rpc()[/code] to everyone as one
## [code]put_packet[/code] per peer, with the same bytes each time. The outbox
## holds the latest packet with its targets: while the same bytes go to further
## peers it only notes them; then ([method flush]) a packet that reached every
## announced peer becomes one room broadcast, fanned out in the sidecar, one that
## reached all but one a broadcast excluding that one, anything else a send per
## target. Nothing waits longer than before: the node writes queued commands on
## its next [method WebSocketServer.process] anyway, and the peer flushes right
## before that, and before any other command it gives the node, so the order of
## everything the peer sends is kept.

var _server: WebSocketServer
var _room: String
## The peer's announced peers (peer id → true), which are the members of [member _room].
var _peers: Dictionary
var _packet: PackedByteArray = PackedByteArray()
var _has_packet: bool = false
## The held packet's targets (peer id → true), in the order they came.
var _targets: Dictionary = {}
var _target_sum: int = 0


func _init(server: WebSocketServer, room: String, peers: Dictionary) -> void:
	_server = server
	_room = room
	_peers = peers


## Queues [param packet] for announced peer [param peer_id].
func send(peer_id: int, packet: PackedByteArray) -> void:
	# The hot path of an rpc() to all: one call per peer, so it stays this short.
	if _has_packet and packet == _packet and not _targets.has(peer_id):
		_targets[peer_id] = true
		_target_sum += peer_id
		return
	flush()
	_packet = packet
	_has_packet = true
	_targets[peer_id] = true
	_target_sum = peer_id


## Sends [param packet] to every announced peer but [param exclude_peer_id]
## (0: none): one room broadcast.
func broadcast(packet: PackedByteArray, exclude_peer_id: int) -> Error:
	flush()
	return _server.broadcast_binary_to_room(_room, packet, maxi(exclude_peer_id - 1, 0))


## Hands the held packet to the node; call before any other command and before
## the node's [method WebSocketServer.process].
func flush() -> void:
	if not _has_packet:
		return
	var count := _targets.size()
	if count > 1 and count == _peers.size():
		_server.broadcast_binary_to_room(_room, _packet, 0)
	elif count > 1 and count == _peers.size() - 1:
		# The targets are distinct announced peers, so the one left out is the difference of the sums.
		var peer_sum := 0
		for peer_id: int in _peers:
			peer_sum += peer_id
		_server.broadcast_binary_to_room(_room, _packet, peer_sum - _target_sum - 1)
	else:
		for peer_id: int in _targets:
			_server.send_binary(peer_id - 1, _packet)
	clear()


## Drops the held packet (the peer is closing).
func clear() -> void:
	_packet = PackedByteArray()
	_has_packet = false
	_targets.clear()
	_target_sum = 0
