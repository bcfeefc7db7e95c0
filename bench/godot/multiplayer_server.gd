extends SceneTree
## Bench server for bench/multiplayer.ts: Godot's high-level multiplayer on
## either peer, run from the addon's project so the addon's classes resolve:
## [code]godot --headless --path godot-addon --script <abs>/bench/godot/multiplayer_server.gd -- <args>[/code]
## [br][br]
## [code]--relay=0[/code] turns [member SceneMultiplayer.server_relay] off;
## [code]--settle=S[/code] waits S seconds after the last peer before the state window.
## [br]
## [code]--peer=native|addon[/code]: [WebSocketMultiplayerPeer] or [WebSocketServerMultiplayerPeer].
## [code]--port=P[/code]: loopback port. [code]--mode=serve|state|echo[/code]:
## [code]serve[/code] only accepts (the connection burst); [code]state[/code] waits for
## [code]--clients=N[/code] peers, then [code]rpc()[/code]s a [code]--state-bytes[/code]
## state to all at [code]--hz[/code] for [code]--seconds[/code]; [code]echo[/code] answers
## every raw packet ([method SceneMultiplayer.send_bytes]) to its sender;
## [code]peer-echo[/code] does the same below SceneMultiplayer, on the peer
## itself ([code]put_packet[/code] with the sender as target).
## [br][br]
## The scene tree's own multiplayer poll is off: [method _process] polls itself,
## so the main-thread time of the network work (poll, packet handling, the rpc
## calls) is timed with [method Time.get_ticks_usec] and printed as
## [code]RESULT ...[/code] at the end of the window. Quits by itself after the
## window or [constant WATCHDOG_SECONDS].

const WATCHDOG_SECONDS: float = 120.0


## The node whose [code]@rpc[/code] carries the state (clients only count the packets).
class StateNode:
	extends Node

	@rpc("authority", "call_remote", "reliable")
	func state(_data: PackedByteArray) -> void:
		pass


var _args: Dictionary = {}
var _peer: MultiplayerPeer
var _node: StateNode = StateNode.new()
var _state: PackedByteArray = PackedByteArray()
var _peers: int = 0
var _settled_at_us: int = 0
var _window_started_us: int = 0
var _window_us: int = 0
var _tick_us: int = 0
var _next_tick_us: int = 0
var _frames: int = 0
var _ticks: int = 0
var _network_us: int = 0
var _rpc_us: int = 0
var _max_frame_us: int = 0


func _initialize() -> void:
	for arg: String in OS.get_cmdline_user_args():
		var parts := arg.trim_prefix("--").split("=", true, 1)
		_args[parts[0]] = parts[1] if parts.size() > 1 else ""
	create_timer(WATCHDOG_SECONDS).timeout.connect(func() -> void: quit(3))
	_node.name = "Bench"
	root.add_child(_node)
	_state.resize(int(_args.get("state-bytes", "200")))
	_state.fill(0x5a)
	_window_us = int(float(_args.get("seconds", "5")) * 1000000.0)
	_tick_us = int(1000000.0 / float(_args.get("hz", "30")))
	var multiplayer := get_multiplayer() as SceneMultiplayer
	multiplayer_poll = false
	multiplayer.server_relay = _args.get("relay", "1") == "1"
	var err := _create_peer(str(_args.get("peer", "")), int(_args.get("port", "0")))
	if err != OK:
		print("FAILED create_server: %s" % error_string(err))
		quit(1)
		return
	multiplayer.peer_connected.connect(func(_id: int) -> void: _peers += 1)
	multiplayer.peer_disconnected.connect(func(_id: int) -> void: _peers -= 1)
	multiplayer.peer_packet.connect(_on_peer_packet)
	print("READY")


func _create_peer(kind: String, port: int) -> Error:
	if kind == "addon":
		var peer := WebSocketServerMultiplayerPeer.new()
		peer.server.forward_sidecar_logs = false
		peer.server.heartbeat_interval_ms = 0
		_peer = peer
		return _use_peer(peer.create_server(port, "127.0.0.1"))
	var native := WebSocketMultiplayerPeer.new()
	_peer = native
	return _use_peer(native.create_server(port, "127.0.0.1"))


func _use_peer(err: Error) -> Error:
	if err == OK and _args.get("mode") != "peer-echo":
		get_multiplayer().multiplayer_peer = _peer
	return err


func _process(_delta: float) -> bool:
	var started := Time.get_ticks_usec()
	if _args.get("mode") == "peer-echo":
		_echo_on_peer()
	else:
		get_multiplayer().poll()
	var polled := Time.get_ticks_usec()
	if _args.get("mode") == "state" and _peers >= int(_args.get("clients", "1")) and _settled_at_us == 0:
		_settled_at_us = polled + int(float(_args.get("settle", "0")) * 1000000.0)
	if _settled_at_us > 0 and _settled_at_us <= polled and _next_tick_us <= polled:
		if _window_started_us == 0:
			_window_started_us = polled
			_next_tick_us = polled
		_node.state.rpc(_state)
		_ticks += 1
		_next_tick_us += _tick_us
		_rpc_us += Time.get_ticks_usec() - polled
	var frame_us := Time.get_ticks_usec() - started
	if _window_started_us > 0:
		_frames += 1
		_network_us += frame_us
		_max_frame_us = maxi(_max_frame_us, frame_us)
		if started - _window_started_us >= _window_us:
			get_multiplayer().poll()  # Hands over what the last tick queued before quitting.
			print("RESULT frames=%d ticks=%d network_us=%d rpc_us=%d max_frame_us=%d peers=%d" % [
					_frames, _ticks, _network_us, _rpc_us, _max_frame_us, _peers])
			quit(0)
	return false


func _echo_on_peer() -> void:
	_peer.poll()
	while _peer.get_available_packet_count() > 0:
		if _window_started_us == 0:
			_window_started_us = Time.get_ticks_usec()
		var sender := _peer.get_packet_peer()
		var packet := _peer.get_packet()
		_peer.set_target_peer(sender)
		_peer.put_packet(packet)


func _on_peer_packet(peer_id: int, packet: PackedByteArray) -> void:
	if _args.get("mode") != "echo":
		return
	if _window_started_us == 0:
		_window_started_us = Time.get_ticks_usec()
	(get_multiplayer() as SceneMultiplayer).send_bytes(packet, peer_id)
