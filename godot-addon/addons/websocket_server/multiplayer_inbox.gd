extends RefCounted
## The packets a [WebSocketServerMultiplayerPeer] received and [SceneMultiplayer]
## has not read yet, in arrival order, each with the peer it came from.
##
## Reading only moves an index; [method compact] drops what was read (the peer
## calls it once per poll, after [SceneMultiplayer] read everything), so a
## frame's packets cost no shifting of the array.

var _packets: Array[PackedByteArray] = []
var _peers: PackedInt32Array = PackedInt32Array()
var _next: int = 0


## Appends a packet from [param peer_id].
func push(peer_id: int, packet: PackedByteArray) -> void:
	_packets.append(packet)
	_peers.append(peer_id)


## Packets not read yet.
func count() -> int:
	return _packets.size() - _next


## The peer of the next packet, 1 (the server) when there is none, as Godot's peer answers.
func next_peer() -> int:
	return _peers[_next] if _next < _packets.size() else 1


## The next packet, or an empty one when there is none.
func take() -> PackedByteArray:
	if _next >= _packets.size():
		return PackedByteArray()
	var packet := _packets[_next]
	_packets[_next] = PackedByteArray()
	_next += 1
	return packet


## Whether a packet of [param peer_id] waits unread.
func holds_from(peer_id: int) -> bool:
	for index: int in range(_next, _peers.size()):
		if _peers[index] == peer_id:
			return true
	return false


## Drops the packets already read.
func compact() -> void:
	if _next == 0:
		return
	_packets = _packets.slice(_next)
	_peers = _peers.slice(_next)
	_next = 0


## Drops every packet.
func clear() -> void:
	_packets.clear()
	_peers = PackedInt32Array()
	_next = 0
