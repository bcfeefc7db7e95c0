extends SceneTree
## A small game run in a child Godot process by the hardening tests, for the
## defects that kill, freeze or strand the game itself:
## [code]$GODOT --headless --path godot-addon --script res://tests/hardening_child.gd --
## --game=<name> --out=<file>[/code]
##
## It writes what it saw as [code]key=value[/code] lines to [code]--out[/code]
## (flushed at once: the parent reads them while the game runs, and a game
## that dies mid-way leaves its last line). [code]survived=1[/code] is written
## last by every game that lives to the end.

const Server := preload("res://addons/websocket_server/websocket_server.gd")

## Bytes in a binary message one above what a frame can carry (268,435,456
## bytes of frame: 8 of them are the command's own).
const OVERSIZE_BYTES: int = 268435449
## A broadcast bigger than a pipe (64 KiB on Linux).
const PIPE_FILLING_BYTES: int = 1024 * 1024
## Longest any game runs before it ends itself.
const LIFETIME_MS: int = 20000

var _out: FileAccess
var _args: Dictionary = {}
var _errors: PackedStringArray = []


func _initialize() -> void:
	for arg: String in OS.get_cmdline_user_args():
		var eq := arg.find("=")
		if arg.begins_with("--") and eq > 2:
			_args[arg.substr(2, eq - 2)] = arg.substr(eq + 1)
	_out = FileAccess.open(str(_args.get("out", "")), FileAccess.WRITE)
	create_timer(LIFETIME_MS / 1000.0).timeout.connect(func() -> void:
		_note("timed_out", "1")
		quit(4))
	_play.call_deferred(str(_args.get("game", "")))


func _note(key: String, value: Variant) -> void:
	if _out != null:
		_out.store_line("%s=%s" % [key, str(value).replace("\n", " ")])
		_out.flush()


func _server(sidecar: String = "") -> Server:
	var server: Server = Server.new()
	server.sidecar_path = sidecar
	server.forward_sidecar_logs = false
	server.server_error.connect(func(e: String) -> void:
		_errors.append(e)
		_note("server_error", e))
	return server


func _started(server: Server, port: int) -> bool:
	var ok := server.start(port, "127.0.0.1")
	_note("started", 1 if ok else 0)
	return ok


func _play(game: String) -> void:
	match game:
		"oversize":
			await _oversize()
		"killed_mid_write":
			await _killed_mid_write()
		"deaf_sidecar":
			await _stuck_sidecar("res://tests/fake_sidecar_deaf.cjs")
		"closed_stdin":
			await _stuck_sidecar("res://tests/fake_sidecar_closes_stdin.cjs")
		"crash_after_spawn":
			await _spawn_then_idle()
		"quit_after_spawn":
			await _spawn_then_idle()
		"autostart_busy":
			await _autostart_busy()
		"start_stop":
			_start_stop()
		_:
			_note("unknown_game", game)
			quit(2)
			return
	_note("survived", 1)
	quit(0)


# Defect 1: an impossible frame is refused, and the game lives on.
func _oversize() -> void:
	var server := _server()
	if not _started(server, int(_args.get("port", "0"))):
		return
	var huge := PackedByteArray()
	huge.resize(OVERSIZE_BYTES)
	var err := server.broadcast_binary(huge)
	huge = PackedByteArray()
	_note("send_result", err)
	for frame: int in 30:
		server.process()
		await process_frame
	_note("listening_after", 1 if server.is_listening() else 0)
	server.free()


# Defect 1, second half: the sidecar dies while a large write blocks on it
# (the parent stops it with SIGSTOP, then kills it with SIGKILL).
func _killed_mid_write() -> void:
	var server := _server()
	if not _started(server, int(_args.get("port", "0"))):
		return
	_note("ready", 1)
	var blob := PackedByteArray()
	blob.resize(PIPE_FILLING_BYTES)
	var deadline := Time.get_ticks_msec() + 4000
	while Time.get_ticks_msec() < deadline and server.is_listening():
		server.broadcast_binary(blob)
		server.process()
		await process_frame
	_note("listening_after", 1 if server.is_listening() else 0)
	server.free()


# Defect 6: a sidecar that stops reading (or closes its stdin) must neither
# freeze nor kill the game; the longest process() is reported.
func _stuck_sidecar(sidecar: String) -> void:
	var server := _server(sidecar)
	if not _started(server, 18999):
		return
	var blob := PackedByteArray()
	blob.resize(PIPE_FILLING_BYTES)
	var longest := 0
	var deadline := Time.get_ticks_msec() + 4000
	while Time.get_ticks_msec() < deadline:
		server.broadcast_binary(blob)
		var before := Time.get_ticks_msec()
		server.process()
		longest = maxi(longest, Time.get_ticks_msec() - before)
		_note("longest_process_ms", longest)
		if not server.is_listening():
			break
		await process_frame
	_note("listening_after", 1 if server.is_listening() else 0)
	var freed_at := Time.get_ticks_msec()
	server.free()
	_note("free_ms", Time.get_ticks_msec() - freed_at)


# Defect 2: a game that started another process after start(). The parent
# kills it with SIGKILL (crash_after_spawn) or asks it to quit by creating
# the file --quit-file (quit_after_spawn).
func _spawn_then_idle() -> void:
	var server := _server()
	root.add_child(server)
	if not _started(server, int(_args.get("port", "0"))):
		return
	var helper := OS.create_process("sleep", ["30"])
	_note("helper_pid", helper)
	_note("ready", 1)
	var quit_file := str(_args.get("quit-file", ""))
	var deadline := Time.get_ticks_msec() + 15000
	while Time.get_ticks_msec() < deadline:
		if not quit_file.is_empty() and FileAccess.file_exists(quit_file):
			_note("quitting", 1)
			return
		await process_frame


# Defect 10: a scene whose server autostarts on a port in use, with nobody
# connected to server_error. The parent reads this game's Output.
func _autostart_busy() -> void:
	var holder := TCPServer.new()
	var port := int(_args.get("port", "0"))
	_note("holder_listens", 1 if holder.listen(port, "127.0.0.1") == OK else 0)
	var server: Server = Server.new()
	server.port = port
	server.host = "127.0.0.1"
	server.autostart = true
	root.add_child(server)
	for frame: int in 20:
		await process_frame
	_note("listening", 1 if server.is_listening() else 0)
	holder.stop()


# Defect 8: one start() and stop(), with the sidecar found by the locator
# (the parent makes it extract a compressed one into an empty user://).
func _start_stop() -> void:
	var server := _server()
	if _started(server, 0):
		server.stop()
	server.free()
