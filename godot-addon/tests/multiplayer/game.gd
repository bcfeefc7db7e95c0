extends Node
## The node both sides of the multiplayer test share (RPCs need the same
## script at the same path, [code]/root/Game[/code]). The server runs on
## [WebSocketServerMultiplayerPeer], the clients on Godot's stock
## [WebSocketMultiplayerPeer]. Every step prints one [code]MP ...[/code] line
## that [code]test/godot/multiplayer.test.ts[/code] reads.
##
## Server scenario, once [member expected_clients] are connected: [code]hello[/code]
## to each (rpc_id, answered by [code]hello_reply[/code]), [code]announce[/code] to
## all (rpc), after which the lowest client pokes the others through the server's
## relay, and one spawned player per client whose score the synchronizer carries.
## When every client reported all of it, the server disconnects the first client
## and asks the second to leave; later clients just get a [code]hello[/code].

const PLAYER: PackedScene = preload("res://tests/multiplayer/player.tscn")
const FINAL_SCORE: int = 43

## [code]"server"[/code] or [code]"client"[/code].
var role: String = ""
## Server: clients that make up the scenario.
var expected_clients: int = 2
## Server: quit after this many late clients answered their hello.
var late_clients: int = 0

var _players: Node = Node.new()
var _spawner: MultiplayerSpawner = MultiplayerSpawner.new()
var _peers: Array[int] = []
var _scenario_started: bool = false
var _scenario_done: bool = false
var _pending: Dictionary = {}
var _late_answered: int = 0
var _seen_players: Dictionary = {}


func _ready() -> void:
	_players.name = "Players"
	add_child(_players)
	_spawner.name = "Spawner"
	add_child(_spawner)
	_spawner.spawn_path = NodePath("../Players")
	_spawner.add_spawnable_scene(PLAYER.resource_path)
	multiplayer.peer_connected.connect(_on_peer_connected)
	multiplayer.peer_disconnected.connect(_on_peer_disconnected)
	multiplayer.connected_to_server.connect(_on_connected_to_server)
	multiplayer.server_disconnected.connect(_on_server_disconnected)
	multiplayer.connection_failed.connect(_on_connection_failed)
	(multiplayer as SceneMultiplayer).peer_packet.connect(_on_peer_packet)


func _process(_delta: float) -> void:
	if role != "client":
		return
	for player: Node in _players.get_children():
		if player.get("score") == FINAL_SCORE and not _seen_players.has(player.name):
			_seen_players[player.name] = true
			say("client %d synced %s score=%d" % [multiplayer.get_unique_id(), player.name, FINAL_SCORE])
			sync_seen.rpc_id(1, String(player.name))


## Prints one line the driving test reads.
func say(line: String) -> void:
	print("MP " + line)


@rpc("authority", "call_remote", "reliable")
func hello(your_id: int, text: String) -> void:
	say("client %d hello your_id=%d text=%s from=%d" % [multiplayer.get_unique_id(), your_id, text,
			multiplayer.get_remote_sender_id()])
	hello_reply.rpc_id(1, your_id * 2, text + "!")


@rpc("any_peer", "call_remote", "reliable")
func hello_reply(doubled: int, text: String) -> void:
	var sender := multiplayer.get_remote_sender_id()
	say("server hello_reply from=%d doubled=%d text=%s" % [sender, doubled, text])
	if _scenario_done:
		_late_answered += 1
		if _late_answered >= late_clients:
			say("server done")
			get_tree().quit(0)
		return
	_check_off("reply %d" % sender)


@rpc("authority", "call_remote", "reliable")
func announce(text: String, peer_ids: Array) -> void:
	var me := multiplayer.get_unique_id()
	say("client %d announce text=%s peers=%s" % [me, text, str(peer_ids)])
	if me != peer_ids.min():
		return
	for other: int in peer_ids:
		if other != me:
			poke.rpc_id(other, "from %d" % me)


@rpc("any_peer", "call_remote", "reliable")
func poke(text: String) -> void:
	var sender := multiplayer.get_remote_sender_id()
	say("client %d poked by=%d text=%s" % [multiplayer.get_unique_id(), sender, text])
	poke_seen.rpc_id(1, sender)


@rpc("any_peer", "call_remote", "reliable")
func poke_seen(poker: int) -> void:
	say("server poke_seen by=%d poker=%d" % [multiplayer.get_remote_sender_id(), poker])
	_check_off("poke %d" % multiplayer.get_remote_sender_id())


@rpc("any_peer", "call_remote", "reliable")
func sync_seen(player_name: String) -> void:
	var sender := multiplayer.get_remote_sender_id()
	say("server sync_seen by=%d player=%s" % [sender, player_name])
	_check_off("sync %d %s" % [sender, player_name])


@rpc("authority", "call_remote", "reliable")
func leave() -> void:
	say("client %d leaving" % multiplayer.get_unique_id())
	multiplayer.multiplayer_peer.close()
	get_tree().quit(0)


func _on_peer_connected(peer_id: int) -> void:
	say("%s peer_connected %d" % [role, peer_id])
	if role != "server":
		return
	_peers.append(peer_id)
	if _scenario_done:
		hello.rpc_id(peer_id, peer_id, "late %d" % peer_id)
	elif _peers.size() == expected_clients and not _scenario_started:
		_start_scenario()


func _on_peer_disconnected(peer_id: int) -> void:
	say("%s peer_disconnected %d" % [role, peer_id])
	_peers.erase(peer_id)
	if role == "server" and _scenario_done and _peers.is_empty():
		say("server ready for late clients")


## A raw packet ([method SceneMultiplayer.send_bytes]), as the browser test sends by hand: echoed.
func _on_peer_packet(peer_id: int, packet: PackedByteArray) -> void:
	var text := packet.get_string_from_utf8()
	say("%s raw from=%d text=%s" % [role, peer_id, text])
	if role == "server":
		(multiplayer as SceneMultiplayer).send_bytes(("echo " + text).to_utf8_buffer(), peer_id)


func _on_connected_to_server() -> void:
	say("client connected id=%d" % multiplayer.get_unique_id())


func _on_server_disconnected() -> void:
	say("client server_disconnected")
	get_tree().quit(0)


func _on_connection_failed() -> void:
	say("client connection_failed")
	get_tree().quit(1)


func _start_scenario() -> void:
	_scenario_started = true
	var peer_ids := _peers.duplicate()
	for peer_id: int in peer_ids:
		_pending["reply %d" % peer_id] = true
		for player_of: int in peer_ids:
			_pending["sync %d P%d" % [peer_id, player_of]] = true
		if peer_id != peer_ids.min():
			_pending["poke %d" % peer_id] = true
	for peer_id: int in peer_ids:
		hello.rpc_id(peer_id, peer_id, "hi %d" % peer_id)
	announce.rpc("to all", peer_ids)
	for peer_id: int in peer_ids:
		var player: Node2D = PLAYER.instantiate()
		player.name = "P%d" % peer_id
		player.set("score", 42)
		_players.add_child(player, true)
	# A change after the spawn, so the synchronizer (not the spawn state) carries it.
	get_tree().create_timer(0.2).timeout.connect(_raise_scores)


func _raise_scores() -> void:
	for player: Node in _players.get_children():
		player.set("score", FINAL_SCORE)


func _check_off(what: String) -> void:
	_pending.erase(what)
	if not _scenario_started or _scenario_done or not _pending.is_empty():
		return
	_scenario_done = true
	say("server scenario done")
	var first: int = _peers[0]
	say("server disconnecting %d" % first)
	multiplayer.multiplayer_peer.disconnect_peer(first)
	for peer_id: int in _peers:
		if peer_id != first:
			leave.rpc_id(peer_id)
