extends RefCounted
## Issue #12 seen from the game: what the addon does when the sidecar reports
## the errors of a server short of descriptors and memory
## ([code]client_closing[/code], [code]accept_failed[/code],
## [code]inbound_overflow[/code], a 503 [code]rejected_connection[/code] while
## the game did not read), and a [code]stats[/code] answer with fields it could
## not read (nil, named in [code]unavailable[/code]) and
## [code]accept_errors[/code]. Every one must reach the game as a clear signal,
## and none may stop or hang the server. The sidecar is a stand-in,
## [code]fake_sidecar_exhausted.cjs[/code].

const Runner := preload("res://tests/run_tests.gd")
const Server := preload("res://addons/websocket_server/websocket_server.gd")

## Longest one process() may take while these events arrive (a hang fails it).
const PROCESS_BOUND_MS: int = 50

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	var s: Server = Server.new()
	s.sidecar_path = "res://tests/fake_sidecar_exhausted.cjs"
	s.forward_sidecar_logs = false
	var reported: Array = []
	var server_errors: PackedStringArray = []
	var gone: Array = []
	var stats: Array = []
	s.error_reported.connect(func(code: String, _message: String, id: int) -> void: reported.append([code, id]))
	s.server_error.connect(func(e: String) -> void: server_errors.append(e))
	s.client_disconnected.connect(func(id: int, code: int) -> void: gone.append([id, code]))
	s.stats_received.connect(func(token: int, values: Dictionary) -> void: stats.append([token, values]))
	if not t.check(s.start(0, "127.0.0.1"), "issue #12 errors: the stand-in sidecar starts"):
		s.free()
		return
	var token := s.request_stats()
	var longest := 0
	var deadline := Time.get_ticks_msec() + 5000
	while (gone.is_empty() or stats.is_empty()) and Time.get_ticks_msec() < deadline:
		var began := Time.get_ticks_msec()
		s.process()
		longest = maxi(longest, Time.get_ticks_msec() - began)
		await t.process_frame
	t.check(
			longest <= PROCESS_BOUND_MS,
			"issue #12 errors: no process() takes over %d ms while they arrive (longest %d ms)" % [PROCESS_BOUND_MS, longest])
	t.check_eq(
			reported, [["client_closing", 7], ["accept_failed", 0], ["rejected_connection", 0], ["inbound_overflow", 7]],
			"issue #12 errors: every error reaches error_reported with its code and client, in order")
	t.check(
			server_errors.size() == 2 and server_errors[0].begins_with("accept_failed:")
					and server_errors[1].begins_with("inbound_overflow (client 7):"),
			("issue #12 errors: accept_failed and inbound_overflow also reach server_error; client_closing and a 503 "
					+ "rejected_connection are informational: %s") % [server_errors])
	t.check_eq(gone, [[7, 1008]], "issue #12 errors: the client closed for inbound_overflow is reported gone with 1008")
	t.check(
			stats.size() == 1 and stats[0][0] == token,
			"issue #12 stats: request_stats() is answered once with its token: %s" % [stats])
	if stats.size() == 1:
		var values: Dictionary = stats[0][1]
		t.check(
				values.has("rss") and values["rss"] == null and values.get("unavailable") == ["rss"],
				"issue #12 stats: a field the sidecar could not read arrives as null and is named in unavailable: %s" % [
						values])
		t.check(
				values.get("accept_errors") == 105 and values.get("paused") == true,
				"issue #12 stats: accept_errors and paused arrive as sent: %s" % [values])
	t.check(s.is_listening(), "issue #12 errors: the server still listens after all of them")
	s.stop()
	t.check(not s.is_listening(), "issue #12 errors: stop() ends the stand-in")
	s.free()
