extends RefCounted
## [WebSocketServerMultiplayerPeer] without sockets: its contract before
## [method WebSocketServerMultiplayerPeer.create_server], and the outbox that
## turns [SceneMultiplayer]'s one-packet-per-peer sends into room broadcasts
## (against a server that records the commands instead of sending them). The
## live behaviour, with stock Godot clients, is [code]test/godot/multiplayer.test.ts[/code].

const Outbox := preload("res://addons/websocket_server/multiplayer_outbox.gd")
const Runner := preload("res://tests/run_tests.gd")
const ROOM: String = "room"


## Records the commands the outbox gives instead of sending them.
class RecordingServer:
	extends WebSocketServer

	var calls: Array = []

	func send_binary(client_id: int, data: PackedByteArray) -> Error:
		calls.append(["send", client_id, data])
		return OK

	func broadcast_binary_to_room(room: String, data: PackedByteArray, exclude_client_id: int = 0) -> Error:
		calls.append(["room", room, data, exclude_client_id])
		return OK


var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_peer_before_start()
	_test_outbox()


func _test_peer_before_start() -> void:
	var peer := WebSocketServerMultiplayerPeer.new()
	t.check(peer.server is WebSocketServer, "server is a WebSocketServer before create_server")
	t.check(peer.server.multiplayer_peer_ids, "the peer's server sends peer ids (multiplayer_peer_ids)")
	peer.server.max_clients = 500
	t.check_eq(peer.server.max_clients, 500, "options are set through server before create_server")
	t.check_eq(peer.get_connection_status(), MultiplayerPeer.CONNECTION_DISCONNECTED, "disconnected before create_server")
	t.check(peer.is_server_relay_supported(), "server relay is supported")
	peer.transfer_mode = MultiplayerPeer.TRANSFER_MODE_UNRELIABLE
	peer.transfer_channel = 3
	t.check_eq(peer.transfer_mode, MultiplayerPeer.TRANSFER_MODE_UNRELIABLE, "any transfer mode is accepted")
	t.check_eq(peer.transfer_channel, 3, "any transfer channel is accepted")
	t.check_eq(peer.get_packet_mode(), MultiplayerPeer.TRANSFER_MODE_RELIABLE, "packets arrive reliable (WebSocket)")
	t.check_eq(peer.get_packet_channel(), 0, "packets arrive on channel 0")
	t.check_eq(peer.get_available_packet_count(), 0, "no packets before create_server")
	t.check_eq(peer.put_packet(PackedByteArray([1])), ERR_UNCONFIGURED,
			"put_packet before create_server is ERR_UNCONFIGURED")
	peer.refuse_new_connections = true
	t.check(peer.refuse_new_connections, "refuse_new_connections is kept")


func _test_outbox() -> void:
	var server := RecordingServer.new()
	var peers := {2: true, 3: true, 4: true}
	var outbox := Outbox.new(server, ROOM, peers)
	var a := PackedByteArray([1, 2, 3])
	var b := PackedByteArray([9])

	for peer_id: int in [2, 3, 4]:
		outbox.send(peer_id, a.duplicate())
	t.check_eq(server.calls, [], "nothing is given to the node before flush")
	outbox.flush()
	t.check_eq(server.calls, [["room", ROOM, a, 0]], "the same packet to every peer is one room broadcast")

	server.calls.clear()
	outbox.send(2, a)
	outbox.send(4, a)
	outbox.flush()
	t.check_eq(server.calls, [["room", ROOM, a, 2]], "to all but peer 3: a room broadcast excluding client 2")

	server.calls.clear()
	outbox.send(3, a)
	outbox.send(3, a)
	outbox.send(4, b)
	outbox.send(2, b)
	outbox.flush()
	t.check_eq(server.calls, [["send", 2, a], ["send", 2, a], ["room", ROOM, b, 2]],
			"a repeated target or other bytes end the merge, in order")

	server.calls.clear()
	peers[5] = true
	outbox.send(4, b)
	outbox.send(2, b)
	outbox.flush()
	t.check_eq(server.calls, [["send", 3, b], ["send", 1, b]], "two of four peers get one send each, in order")
	peers.erase(5)

	server.calls.clear()
	outbox.send(2, a)
	t.check_eq(outbox.broadcast(b, 3), OK, "broadcast returns the node's result")
	t.check_eq(server.calls, [["send", 1, a], ["room", ROOM, b, 2]],
			"a broadcast flushes what was held first, then excludes peer 3 (client 2)")

	server.calls.clear()
	outbox.send(2, a)
	outbox.clear()
	outbox.flush()
	t.check_eq(server.calls, [], "clear drops what was held")

	server.calls.clear()
	peers.clear()
	peers[2] = true
	outbox.send(2, a)
	outbox.flush()
	t.check_eq(server.calls, [["send", 1, a]], "a lone peer gets a plain send")
	server.free()
