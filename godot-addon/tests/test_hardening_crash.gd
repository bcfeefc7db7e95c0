extends RefCounted
## Issue #18, the defects that kill, freeze or strand the game (1, 2, 6). Each
## plays a small game in a child Godot process ([code]hardening_child.gd[/code]),
## so a game that dies is a failed check here, not a dead test runner.

const Runner := preload("res://tests/run_tests.gd")
const Kit := preload("res://tests/hardening_kit.gd")

## SIGPIPE's number: a child killed by it reports this exit code.
const SIGPIPE_CODE: int = 13
## How long the proposed fix lets process() hold the main thread (PROPOSED-API.md).
const PROCESS_BLOCK_BOUND_MS: int = 100

var t: Runner
var kit: Kit


func run(runner: Runner) -> void:
	t = runner
	kit = Kit.new(runner)
	await _test_oversize_send()
	await _test_sidecar_killed_mid_write()
	await _test_crashed_game_frees_sidecar()
	await _test_quit_after_spawn()
	await _test_sidecar_stops_reading()
	await _test_sidecar_closes_stdin()
	kit.close_clients()


func _how_it_ended(child: Kit.ChildGame) -> String:
	var code := OS.get_process_exit_code(child.pid)
	return "exit code %d%s; findings %s; errors in its Output: %s" % [
			code, " (SIGPIPE)" if code == SIGPIPE_CODE else "", child.findings(), child.log_errors().right(300)]


func _test_oversize_send() -> void:
	var child := Kit.spawn_child("oversize", ["--port=18101"])
	var took := await kit.wait_exit(child, 30000)
	var seen := _how_it_ended(child)
	t.check(took >= 0, "defect 1: the oversize game ends within 30 s (%s)" % seen)
	t.check(
			child.finding("survived") == "1",
			"defect 1: a 268,435,449-byte broadcast (frames hold at most 268,435,456 bytes) must not kill the game: %s" % seen)
	t.check_eq(
			child.finding("send_result"), str(ERR_INVALID_PARAMETER),
			"defect 1: broadcast_binary of 268,435,449 bytes returns ERR_INVALID_PARAMETER, not OK")
	t.check(
			child.finding("server_error").contains("268435456") or child.finding("server_error").contains("268,435,456"),
			"defect 1: the refused send is reported through server_error naming the 268,435,456-byte limit: %s" % seen)
	t.check_eq(child.finding("listening_after"), "1", "defect 1: a refused send leaves the server listening")
	child.end()


func _test_sidecar_killed_mid_write() -> void:
	var child := Kit.spawn_child("killed_mid_write", ["--port=18102"])
	if not t.check(
			await kit.wait_finding(child, "ready", 15000),
			"defect 1: the mid-write game starts its server (%s)" % _how_it_ended(child)):
		child.end()
		return
	var sidecars := Kit.children_of(child.pid, "sidecar")
	if not t.check(sidecars.size() == 1, "defect 1: the game's sidecar is found under /proc: %s" % [sidecars]):
		child.end()
		return
	# Stopped, the sidecar reads nothing: the game's 1 MiB writes block on the
	# full pipe. Killed then, the blocked write meets a pipe without a reader.
	OS.execute("kill", ["-STOP", str(sidecars[0])])
	await kit.wait(func() -> bool: return false, 500)
	OS.kill(sidecars[0])
	var took := await kit.wait_exit(child, 10000)
	var seen := _how_it_ended(child)
	t.check(
			took >= 0 and child.finding("survived") == "1",
			"defect 1: a sidecar killed while the game blocks writing 1 MiB to it must not kill the game: %s" % seen)
	t.check(
			child.finding("server_error").contains("exited") or child.finding("server_error").contains("sidecar"),
			"defect 1: the sidecar's death is reported through server_error: %s" % seen)
	child.end(sidecars)


func _test_crashed_game_frees_sidecar() -> void:
	var port := 18103
	var child := Kit.spawn_child("crash_after_spawn", ["--port=%d" % port])
	if not t.check(
			await kit.wait_finding(child, "ready", 15000),
			"defect 2: the crashing game starts its server (%s)" % _how_it_ended(child)):
		child.end()
		return
	var sidecars := Kit.children_of(child.pid, "sidecar")
	var left_behind: Array[int] = sidecars.duplicate()
	left_behind.append(int(child.finding("helper_pid")))
	if not t.check(sidecars.size() == 1, "defect 2: the game's sidecar is found under /proc: %s" % [sidecars]):
		child.end(left_behind)
		return
	OS.kill(child.pid)
	var gone_ms := Kit.ms_until_gone(sidecars[0], 1000)
	t.check(
			gone_ms >= 0,
			("defect 2: the sidecar of a game killed with SIGKILL after it ran OS.create_process exits within 1 s "
					+ "(pid %d still runs after 1000 ms)") % sidecars[0])
	t.check(Kit.port_is_free(port), "defect 2: port %d is free 1 s after the game was killed" % port)
	child.end(left_behind)


func _test_quit_after_spawn() -> void:
	var port := 18104
	var quit_file := Kit.scratch_dir("quit").path_join("quit-now")
	DirAccess.remove_absolute(quit_file)
	var child := Kit.spawn_child("quit_after_spawn", ["--port=%d" % port, "--quit-file=" + quit_file])
	if not t.check(
			await kit.wait_finding(child, "ready", 15000),
			"defect 2: the quitting game starts its server (%s)" % _how_it_ended(child)):
		child.end()
		return
	var sidecars := Kit.children_of(child.pid, "sidecar")
	var left_behind: Array[int] = sidecars.duplicate()
	left_behind.append(int(child.finding("helper_pid")))
	var client := kit.client("ws://127.0.0.1:%d" % port)
	t.check(await kit.wait(func() -> bool: return client.is_open()), "defect 2: a client connects to the quitting game")
	FileAccess.open(quit_file, FileAccess.WRITE).store_line("quit")
	var took := await kit.wait_exit(child, 5000)
	t.check(
			took >= 0 and took <= 500,
			"defect 2: a game that ran OS.create_process quits within 500 ms (took %d ms; -1: still running)" % took)
	t.check(
			await kit.wait(func() -> bool: return client.is_closed(), 2000),
			"defect 2: the client is closed after the quit")
	t.check_eq(
			client.peer.get_close_code(), 1001,
			"defect 2: a client of a game that quits normally (after OS.create_process) sees 1001 (-1: no close frame)")
	child.end(left_behind)


func _test_sidecar_stops_reading() -> void:
	var child := Kit.spawn_child("deaf_sidecar")
	await kit.wait_finding(child, "started", 15000)
	var sidecars := Kit.children_of(child.pid, "sidecar")
	var took := await kit.wait_exit(child, 10000)
	var seen := _how_it_ended(child)
	t.check(
			took >= 0,
			"defect 6: a game whose sidecar stops reading does not freeze: it ends its 4 s run within 10 s (%s)" % seen)
	t.check(
			child.finding("survived") == "1" and int(child.finding("longest_process_ms")) <= PROCESS_BLOCK_BOUND_MS,
			"defect 6: with a sidecar that stopped reading, no process() blocks over %d ms (longest %s ms): %s" % [
					PROCESS_BLOCK_BOUND_MS, child.finding("longest_process_ms"), seen])
	t.check(
			child.finding("listening_after") == "0" and not child.finding("server_error").is_empty(),
			"defect 6: a sidecar that stopped reading is reported through server_error and dropped within 4 s: %s" % seen)
	child.end(sidecars)


func _test_sidecar_closes_stdin() -> void:
	var child := Kit.spawn_child("closed_stdin")
	await kit.wait_finding(child, "started", 15000)
	var sidecars := Kit.children_of(child.pid, "sidecar")
	var took := await kit.wait_exit(child, 10000)
	var seen := _how_it_ended(child)
	t.check(
			took >= 0 and child.finding("survived") == "1",
			"defect 6: a sidecar that closes its stdin must not kill the game on the next send: %s" % seen)
	t.check(
			child.finding("listening_after") == "0" and not child.finding("server_error").is_empty(),
			"defect 6: a sidecar that closed its stdin is reported through server_error and dropped: %s" % seen)
	child.end(sidecars)
