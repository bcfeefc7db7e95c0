## Godot's native way: a TCPServer whose connections are upgraded with
## WebSocketPeer.accept_stream and polled from GDScript every frame, as the
## official websocket demo (networking/websocket_chat) does, with the seed's API
## (signals, send_text, broadcast). Accepts every waiting connection per frame.
extends RefCounted

signal client_connected(id: int)
signal client_disconnected(id: int)
signal message_received(id: int, message: String)
signal data_received(id: int, data: PackedByteArray)

const HANDSHAKE_TIMEOUT_MS := 5000

class PendingPeer:
	var connect_time: int
	var tcp: StreamPeerTCP
	var ws: WebSocketPeer

	func _init(p_tcp: StreamPeerTCP) -> void:
		tcp = p_tcp
		connect_time = Time.get_ticks_msec()

var tcp_server := TCPServer.new()
var pending_peers: Array[PendingPeer] = []
var peers: Dictionary = {}
## Per-peer buffer size: Godot's default (64 KiB) unless a scenario needs bigger messages.
var buffer_bytes := 65535
var _next_id := 1


func listen(port: int, host: String) -> int:
	return tcp_server.listen(port, host)


func get_port() -> int:
	return tcp_server.get_local_port()


func send_text(id: int, message: String) -> int:
	var peer: WebSocketPeer = peers.get(id)
	if peer == null:
		return ERR_DOES_NOT_EXIST
	return peer.send_text(message)


func send_binary(id: int, data: PackedByteArray) -> int:
	var peer: WebSocketPeer = peers.get(id)
	if peer == null:
		return ERR_DOES_NOT_EXIST
	return peer.send(data)


func broadcast_text(message: String, exclude: int = 0) -> void:
	for id: int in peers:
		if id != exclude:
			peers[id].send_text(message)


func get_client_count() -> int:
	return peers.size()


func poll() -> void:
	while tcp_server.is_connection_available():
		var conn := tcp_server.take_connection()
		if conn != null:
			pending_peers.append(PendingPeer.new(conn))
	var to_remove: Array[PendingPeer] = []
	for p in pending_peers:
		if not _connect_pending(p):
			if p.connect_time + HANDSHAKE_TIMEOUT_MS < Time.get_ticks_msec():
				to_remove.append(p)
			continue
		to_remove.append(p)
	for r in to_remove:
		pending_peers.erase(r)
	var closed: Array[int] = []
	for id: int in peers:
		var peer: WebSocketPeer = peers[id]
		peer.poll()
		if peer.get_ready_state() != WebSocketPeer.STATE_OPEN:
			closed.append(id)
			continue
		while peer.get_available_packet_count():
			var packet := peer.get_packet()
			if peer.was_string_packet():
				message_received.emit(id, packet.get_string_from_utf8())
			else:
				data_received.emit(id, packet)
	for id in closed:
		if peers[id].get_ready_state() == WebSocketPeer.STATE_CLOSED:
			peers.erase(id)
			client_disconnected.emit(id)


func _connect_pending(p: PendingPeer) -> bool:
	if p.ws != null:
		p.ws.poll()
		var state := p.ws.get_ready_state()
		if state == WebSocketPeer.STATE_OPEN:
			var id := _next_id
			_next_id += 1
			peers[id] = p.ws
			client_connected.emit(id)
			return true
		if state != WebSocketPeer.STATE_CONNECTING:
			return true
		return false
	if p.tcp.get_status() != StreamPeerTCP.STATUS_CONNECTED:
		return true
	p.ws = WebSocketPeer.new()
	p.ws.inbound_buffer_size = buffer_bytes
	p.ws.outbound_buffer_size = buffer_bytes
	p.ws.max_queued_packets = 4096
	p.ws.accept_stream(p.tcp)
	return false
