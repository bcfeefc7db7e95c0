extends SceneTree
## Entry point of one process of the multiplayer test:
## [code]godot --headless --path godot-addon --script res://tests/multiplayer/run.gd -- <args>[/code]
## [br][br]
## [code]--role=server --clients=N --late=M[/code]: a [WebSocketServerMultiplayerPeer]
## on a free loopback port (printed as [code]MP server listening <port>[/code]).
## [br]
## [code]--role=client --url=ws://...[/code]: Godot's stock [WebSocketMultiplayerPeer].
## [br]
## [code]--role=taken --port=P[/code]: [method WebSocketServerMultiplayerPeer.create_server]
## on a port in use; prints the [enum Error] it returned and quits.
## [br][br]
## Either quits with code 3 after [constant WATCHDOG_SECONDS], so a stuck run ends by itself.

const GAME_SCRIPT: GDScript = preload("res://tests/multiplayer/game.gd")
const WATCHDOG_SECONDS: float = 60.0


func _initialize() -> void:
	var args := {}
	for arg: String in OS.get_cmdline_user_args():
		var parts := arg.trim_prefix("--").split("=", true, 1)
		args[parts[0]] = parts[1] if parts.size() > 1 else ""
	create_timer(WATCHDOG_SECONDS).timeout.connect(_on_watchdog)
	var game: Node = GAME_SCRIPT.new()
	game.name = "Game"
	game.set("role", args.get("role", ""))
	root.add_child(game)
	match args.get("role", ""):
		"server":
			game.set("expected_clients", int(args.get("clients", "2")))
			game.set("late_clients", int(args.get("late", "0")))
			_start_server()
		"client":
			_start_client(str(args.get("url", "")))
		"taken":
			_try_taken_port(int(args.get("port", "0")))
		_:
			printerr("run.gd: --role=server or --role=client")
			quit(2)


func _start_server() -> void:
	var peer := WebSocketServerMultiplayerPeer.new()
	peer.server.heartbeat_interval_ms = 0
	var err := peer.create_server(0, "127.0.0.1")
	if err != OK:
		print("MP server create_server failed %s" % error_string(err))
		quit(1)
		return
	get_multiplayer().multiplayer_peer = peer
	print("MP server listening %d unique_id=%d is_server=%s status=%d" % [peer.server.get_port(),
			get_multiplayer().get_unique_id(), get_multiplayer().is_server(), peer.get_connection_status()])


func _start_client(url: String) -> void:
	var peer := WebSocketMultiplayerPeer.new()
	var err := peer.create_client(url)
	if err != OK:
		print("MP client create_client failed %s" % error_string(err))
		quit(1)
		return
	get_multiplayer().multiplayer_peer = peer


func _try_taken_port(port: int) -> void:
	var peer := WebSocketServerMultiplayerPeer.new()
	var err := peer.create_server(port, "127.0.0.1")
	print("MP taken create_server=%s status=%d unique_id=%d" % [error_string(err), peer.get_connection_status(),
			peer.get_unique_id()])
	quit(0)


func _on_watchdog() -> void:
	print("MP watchdog: still running after %d s" % WATCHDOG_SECONDS)
	quit(3)
