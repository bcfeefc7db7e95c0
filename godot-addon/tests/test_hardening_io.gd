extends RefCounted
## Issue #18, the defects of reading, writing and spawning (4, 7, 11, 14, 15)
## and the per-call budget of process() the issue asks to decide.

const Runner := preload("res://tests/run_tests.gd")
const Kit := preload("res://tests/hardening_kit.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")

## Start/stop cycles for the descriptor count (the issue saw one leak per start).
const FD_CYCLES: int = 12
## Longest start() with a sidecar that floods stderr (defect 15).
const FLOOD_START_BOUND_MS: int = 1500
## Most the kept stderr of that sidecar may add to static memory (defect 15).
const FLOOD_MEMORY_BOUND_BYTES: int = 4 * 1024 * 1024
## Messages queued for the budget test, and the budget it sets (PROPOSED-API.md).
const BUDGET_MESSAGES: int = 20000
const BUDGET_MS: int = 4
## Slack over the budget for one handler and one pipe read.
const BUDGET_SLACK_MS: int = 6

var t: Runner
var kit: Kit


func run(runner: Runner) -> void:
	t = runner
	kit = Kit.new(runner)
	await _test_reentrant_process()
	_test_no_descriptor_leak()
	_test_non_executable_sidecar_path()
	await _test_nul_in_text()
	_test_stderr_flood()
	await _test_process_budget()
	kit.close_clients()


func _server(sidecar: String = "") -> Server:
	var s: Server = Server.new()
	s.sidecar_path = sidecar
	s.forward_sidecar_logs = false
	return s


func _test_reentrant_process() -> void:
	var s := _server()
	# Also from a handler that start() itself emits, while it reads the handshake.
	s.server_started.connect(func(_port: int) -> void: s.process())
	if not t.check(s.start(0, "127.0.0.1"), "defect 4: start(0) listens, with process() called from server_started"):
		s.free()
		return
	var errors: PackedStringArray = []
	var got: Dictionary = {}
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	s.message_received.connect(func(id: int, text: String) -> void:
		got[id] = got.get(id, []) + [text]
		# A game that pumps the server from its handler, e.g. via a helper.
		s.process())
	var clients: Array[Kit.Client] = []
	for i: int in 3:
		clients.append(kit.client("ws://127.0.0.1:%d" % s.get_port()))
	await kit.wait_processing(s, func() -> bool: return s.get_client_count() == 3 and clients.all(
			func(c: Kit.Client) -> bool: return c.is_open()))
	for c: Kit.Client in clients:
		for i: int in 10:
			c.peer.send_text("m%d" % i)
	await kit.wait_processing(s, func() -> bool:
		var count: int = got.values().reduce(func(n: int, texts: Array) -> int: return n + texts.size(), 0)
		return not errors.is_empty() or count >= 30)
	t.check(
			errors.is_empty(),
			"defect 4: process() called from a message_received handler raises no server_error: %s" % [errors])
	t.check_eq(s.get_client_count(), 3, "defect 4: re-entrant process() drops none of the 3 clients")
	var in_order := got.size() == 3
	for texts: Array in got.values():
		in_order = in_order and texts == range(10).map(func(i: int) -> String: return "m%d" % i)
	t.check(in_order, "defect 4: with re-entrant process() each client's 10 messages arrive once, in order: %s" % [got])
	s.stop()
	s.free()


func _test_no_descriptor_leak() -> void:
	var s := _server()
	# One warm-up cycle: first starts may open descriptors they keep for good.
	s.start(0, "127.0.0.1")
	s.stop()
	var before := Kit.open_fd_count()
	var started := 0
	for i: int in FD_CYCLES:
		if s.start(0, "127.0.0.1"):
			started += 1
		s.stop()
	var after := Kit.open_fd_count()
	t.check_eq(started, FD_CYCLES, "defect 7: every start() of the leak test listens")
	t.check(
			after <= before,
			"defect 7: %d start/stop cycles leave the descriptor count where it began (%d before, %d after)" % [
					FD_CYCLES, before, after])
	s.free()


func _test_non_executable_sidecar_path() -> void:
	var dir := Kit.scratch_dir("not-executable")
	var marker := dir.path_join("it-ran")
	var script := dir.path_join("not-a-sidecar")
	DirAccess.remove_absolute(marker)
	var file := FileAccess.open(script, FileAccess.WRITE)
	file.store_string("#!/bin/sh\ntouch '%s'\n" % marker)
	file.close()
	FileAccess.set_unix_permissions(script, 0x1a4)
	var s := _server(script)
	s.startup_timeout_ms = 1000
	var errors: PackedStringArray = []
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	var ok := s.start(0, "127.0.0.1")
	OS.delay_msec(200)
	t.check(
			not ok and errors.size() == 1,
			"defect 11: a sidecar_path naming a 0644 shell script fails start(): %s" % [errors])
	t.check(not FileAccess.file_exists(marker), "defect 11: the 0644 file named by sidecar_path is never run")
	t.check_eq(
			FileAccess.get_unix_permissions(script), 0x1a4,
			"defect 11: the mode of the user's file named by sidecar_path stays 0644 (outside user://)")
	# Starts like an ELF executable, but 0644 outside user://: refused, mode kept.
	var elf := dir.path_join("elf-not-executable")
	file = FileAccess.open(elf, FileAccess.WRITE)
	file.store_buffer(PackedByteArray([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]))
	file.close()
	FileAccess.set_unix_permissions(elf, 0x1a4)
	s.sidecar_path = elf
	errors.clear()
	t.check(
			not s.start(0, "127.0.0.1") and errors.size() == 1 and errors[0].contains("chmod +x"),
			"defect 11: a 0644 ELF file outside user:// is refused with a hint to chmod +x it: %s" % [errors])
	t.check_eq(FileAccess.get_unix_permissions(elf), 0x1a4, "defect 11: the 0644 ELF file's mode is not changed")
	s.free()


func _test_nul_in_text() -> void:
	var s := _server()
	if not t.check(s.start(0, "127.0.0.1"), "defect 14: start(0) listens"):
		s.free()
		return
	var got: Array[String] = []
	s.message_received.connect(func(_id: int, text: String) -> void: got.append(text))
	var c := kit.client("ws://127.0.0.1:%d" % s.get_port())
	await kit.wait_processing(s, func() -> bool: return c.is_open())
	c.peer.send("abc".to_utf8_buffer() + PackedByteArray([0]) + "def".to_utf8_buffer(), WebSocketPeer.WRITE_MODE_TEXT)
	await kit.wait_processing(s, func() -> bool: return not got.is_empty())
	var want := "abc" + String.chr(0) + "def"
	t.check(
			got.size() == 1 and got[0] == want,
			"defect 14: text 'abc\\u0000def' (7 characters) arrives whole, not cut at the NUL: lengths %s" % [
					got.map(func(text: String) -> int: return text.length())])
	s.stop()
	s.free()


func _test_stderr_flood() -> void:
	var s := _server("res://tests/fake_sidecar_stderr_flood.cjs")
	s.startup_timeout_ms = 6000
	var errors: PackedStringArray = []
	s.server_error.connect(func(e: String) -> void: errors.append(e))
	var memory_before := OS.get_static_memory_usage()
	var began := Time.get_ticks_msec()
	var ok := s.start(18999, "127.0.0.1")
	var took := Time.get_ticks_msec() - began
	var grown := OS.get_static_memory_usage() - memory_before
	t.check(
			ok and took <= FLOOD_START_BOUND_MS,
			"defect 15: a sidecar writing 24 MB to stderr without a newline starts within %d ms (took %d ms, ok %s, %s)" % [
					FLOOD_START_BOUND_MS, took, ok, errors])
	t.check(
			grown <= FLOOD_MEMORY_BOUND_BYTES,
			"defect 15: its newline-less stderr adds at most %d bytes to static memory (added %d)" % [
					FLOOD_MEMORY_BOUND_BYTES, grown])
	s.free()


func _test_process_budget() -> void:
	var s := _server()
	t.check(
			"process_budget_ms" in s,
			"budget: the server has the proposed process_budget_ms property (PROPOSED-API.md)")
	s.set("process_budget_ms", BUDGET_MS)
	if not t.check(s.start(0, "127.0.0.1"), "budget: start(0) listens"):
		s.free()
		return
	var got: Array[int] = []
	s.message_received.connect(func(_id: int, text: String) -> void: got.append(int(text)))
	var c := kit.client("ws://127.0.0.1:%d" % s.get_port(), 4 * 1024 * 1024)
	await kit.wait_processing(s, func() -> bool: return c.is_open() and s.get_client_count() == 1)
	for i: int in BUDGET_MESSAGES:
		c.peer.send_text(str(i))
	# The game stalls (no process()) while the client's messages pile up.
	await kit.wait(func() -> bool: return c.peer.get_current_outbound_buffered_amount() == 0, 5000)
	await kit.wait(func() -> bool: return false, 500)
	var longest := 0
	var deadline := Time.get_ticks_msec() + 10000
	while got.size() < BUDGET_MESSAGES and Time.get_ticks_msec() < deadline:
		var before := Time.get_ticks_usec()
		s.process()
		longest = maxi(longest, int((Time.get_ticks_usec() - before) / 1000))
		await t.process_frame
	t.check(
			longest <= BUDGET_MS + BUDGET_SLACK_MS,
			("budget: after a stall with %d messages queued, no process() takes over %d + %d ms with a %d ms budget "
					+ "(longest %d ms)") % [
					BUDGET_MESSAGES, BUDGET_MS, BUDGET_SLACK_MS, BUDGET_MS, longest])
	t.check(
			got == range(BUDGET_MESSAGES),
			"budget: all %d messages arrive once, in order, carried across frames (got %d)" % [BUDGET_MESSAGES, got.size()])
	s.stop()
	s.free()
