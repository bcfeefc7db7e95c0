extends Node
## A small multiplayer lobby served by [WebSocketServerMultiplayerPeer] to
## clients on Godot's stock [WebSocketMultiplayerPeer] (desktop or web export).
##
## Both scenes use this script at the same path ([code]/root/Lobby[/code]), as
## RPCs need. [code]server.tscn[/code] listens on [member port]; every client
## that joins gets a player, spawned on every client by the
## [MultiplayerSpawner] and moved by the server, its position carried by the
## player's [MultiplayerSynchronizer]. [code]client.tscn[/code] connects to
## [member url], says hello through an RPC, and the server repeats it to
## everyone. Run them from the [code]godot-addon[/code] folder:
## [codeblock]
## godot --path . res://examples/multiplayer/server.tscn
## godot --path . res://examples/multiplayer/client.tscn   # as many as you like
## [/codeblock]

const PLAYER: PackedScene = preload("res://examples/multiplayer/player.tscn")

## [code]"server"[/code] or [code]"client"[/code].
@export_enum("server", "client") var role: String = "server"
## Port the server listens on, on every interface.
@export var port: int = 9080
## Where the client connects.
@export var url: String = "ws://127.0.0.1:9080"

@onready var _players: Node2D = $Players
@onready var _spawner: MultiplayerSpawner = $Spawner


func _ready() -> void:
	multiplayer.peer_connected.connect(_on_peer_connected)
	multiplayer.peer_disconnected.connect(_on_peer_disconnected)
	multiplayer.connected_to_server.connect(_on_connected_to_server)
	multiplayer.server_disconnected.connect(_on_server_disconnected)
	_spawner.spawned.connect(func(player: Node) -> void: print("player %s appeared" % player.name))
	if role == "server":
		_start_server()
	else:
		_start_client()


func _process(_delta: float) -> void:
	if role != "server":
		return
	# The server owns the players: it moves them; their synchronizers carry the positions.
	var angle := Time.get_ticks_msec() / 1000.0
	for player: Node2D in _players.get_children():
		player.position = Vector2(cos(angle), sin(angle)) * 100.0 + Vector2(200, 150)
		angle += 0.5


## Asks the server to repeat [param text] to everyone.
@rpc("any_peer", "call_remote", "reliable")
func post(text: String) -> void:
	show_message.rpc("peer %d says: %s" % [multiplayer.get_remote_sender_id(), text])


## Shown on the server and every client.
@rpc("authority", "call_local", "reliable")
func show_message(text: String) -> void:
	print(text)


func _start_server() -> void:
	var peer := WebSocketServerMultiplayerPeer.new()
	peer.server.max_clients = 64  # Every WebSocketServer option is there: TLS, auth, limits...
	var err := peer.create_server(port)
	if err != OK:
		push_error("could not listen on port %d: %s" % [port, error_string(err)])
		return
	multiplayer.multiplayer_peer = peer
	print("lobby server listening on port %d" % port)


func _start_client() -> void:
	var peer := WebSocketMultiplayerPeer.new()
	var err := peer.create_client(url)
	if err != OK:
		push_error("could not connect to %s: %s" % [url, error_string(err)])
		return
	multiplayer.multiplayer_peer = peer


func _on_peer_connected(peer_id: int) -> void:
	print("%s: peer %d connected" % [role, peer_id])
	if role == "server":
		var player: Node2D = PLAYER.instantiate()
		player.name = str(peer_id)
		_players.add_child(player, true)


func _on_peer_disconnected(peer_id: int) -> void:
	print("%s: peer %d disconnected" % [role, peer_id])
	if role == "server" and _players.has_node(str(peer_id)):
		_players.get_node(str(peer_id)).queue_free()


func _on_connected_to_server() -> void:
	print("connected as peer %d" % multiplayer.get_unique_id())
	post.rpc_id(1, "hello")


func _on_server_disconnected() -> void:
	print("the server went away")
