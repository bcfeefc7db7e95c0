## Bench server in Godot: `-- --mode=native` (native_server.gd) or `-- --mode=addon
## --sidecar=<path>` (the addon's WebSocketServer; only in the project bench/run.ts builds with the
## addon). Speaks the bench server protocol (bench/README.md): plain echo, "!bcast n size",
## "!wait n", "!ftreset", "!ftget". Times the per-frame network processing with Time.get_ticks_usec.
extends Node

var server
var mode := "native"
var clients := 0
var wait_for := 0
var waiter := 0
var ft_sum := 0
var ft_frames := 0
var ft_max := 0
var ft_started := 0


func _ready() -> void:
	var sidecar := ""
	var buffer_kib := 0
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--mode="):
			mode = arg.get_slice("=", 1)
		elif arg.begins_with("--sidecar="):
			sidecar = arg.get_slice("=", 1)
		elif arg.begins_with("--buffer-kib="):
			buffer_kib = int(arg.get_slice("=", 1))
	var t0 := Time.get_ticks_usec()
	var rss_pids := str(OS.get_process_id())
	if mode == "addon":
		# load(), not the class_name: the template engine has no class cache unless the runner writes one.
		server = load("res://addons/websocket_server/websocket_server.gd").new()
		server.sidecar_path = sidecar
		server.forward_sidecar_logs = false
		if not server.start(0, "127.0.0.1"):
			printerr("addon server failed to start")
			get_tree().quit(1)
			return
		rss_pids += "," + str(server._session.child.pid)
	else:
		server = load("res://native_server.gd").new()
		if buffer_kib > 0:
			server.buffer_bytes = buffer_kib * 1024
		if server.listen(0, "127.0.0.1") != OK:
			printerr("native server failed to listen")
			get_tree().quit(1)
			return
	var startup := Time.get_ticks_usec() - t0
	server.client_connected.connect(_on_connected)
	server.client_disconnected.connect(_on_disconnected)
	server.message_received.connect(_on_message)
	server.data_received.connect(_on_data)
	print("READY port=%d startup_us=%d rss_pids=%s" % [server.get_port(), startup, rss_pids])


func _process(_delta: float) -> void:
	if server == null:
		return
	var t := Time.get_ticks_usec()
	if mode == "addon":
		server.process()
	else:
		server.poll()
	var spent := Time.get_ticks_usec() - t
	ft_sum += spent
	ft_frames += 1
	ft_max = maxi(ft_max, spent)


func _on_connected(_id: int) -> void:
	clients += 1
	if waiter != 0 and clients >= wait_for:
		server.send_text(waiter, "!reached")
		waiter = 0


func _on_disconnected(_id: int, _code: int = 0) -> void:
	clients -= 1


func _on_message(id: int, message: String) -> void:
	if message.begins_with("!"):
		_control(id, message)
		return
	server.send_text(id, message)


func _on_data(id: int, data: PackedByteArray) -> void:
	server.send_binary(id, data)


func _control(id: int, message: String) -> void:
	var parts := message.split(" ")
	match parts[0]:
		"!bcast":
			var payload := "a".repeat(int(parts[2]))
			for i in int(parts[1]):
				server.broadcast_text(payload, id)
		"!wait":
			wait_for = int(parts[1])
			if clients >= wait_for:
				server.send_text(id, "!reached")
			else:
				waiter = id
		"!ftreset":
			ft_sum = 0
			ft_frames = 0
			ft_max = 0
			ft_started = Time.get_ticks_usec()
			server.send_text(id, "!ok")
		"!ftget":
			var elapsed := float(Time.get_ticks_usec() - ft_started) / 1e6
			var avg := float(ft_sum) / maxi(ft_frames, 1)
			var fps := ft_frames / maxf(elapsed, 0.001)
			var stats := {"avg_us": avg, "max_us": ft_max, "frames": ft_frames, "fps": fps}
			server.send_text(id, "!ft " + JSON.stringify(stats))
