extends RefCounted
## The sidecar child process and its pipes.
##
## Spawns the program with [method OS.execute_with_pipe] and reads only the
## bytes the pipes hold ([method FileAccess.get_length] on a pipe returns the
## bytes available). Writes never block: [method FileAccess.store_buffer] is one
## blocking [code]write()[/code] and Godot does not ignore SIGPIPE, so bytes go
## out only under the stdin credit of [code]protocol/PROTOCOL.md[/code]: at most
## [method write_window] bytes that the sidecar has not reported reading
## ([code]consumed[/code]), nothing more before its first report, and the
## process checked right before each write. The rest waits here, in order.
## Stderr lines go to Godot's Output: [code]error:[/code] lines through
## [method @GlobalScope.push_error], [code]warn:[/code] lines through
## [method @GlobalScope.push_warning], others through [method @GlobalScope.print].

const StderrCloser := preload("res://addons/websocket_server/stderr_closer.gd")

## Lines of stderr kept for error reports.
const KEPT_STDERR_LINES: int = 12
## Longest stderr line forwarded or kept, in bytes; the rest of it is dropped.
const MAX_STDERR_LINE_BYTES: int = 8192
## Most stderr bytes read per [method drain_stderr].
const STDERR_READ_BUDGET: int = 4 * 1024 * 1024
## Prefix of forwarded log lines.
const LOG_PREFIX: String = "[WebSocketServer sidecar] "
## A sidecar that has taken none of the bytes written to it for this long while
## more wait is stuck (it stopped reading, or closed its stdin).
const STALL_LIMIT_MS: int = 2000
## How long an ended sidecar may take to exit by itself before it is killed.
const EXIT_GRACE_MS: int = 2000

## Sidecars that were asked to exit: pid to the time they are killed at (-1:
## killed already, only to be reaped).
static var _ending: Dictionary = {}

## Process id, or -1 before [method spawn] succeeds.
var pid: int = -1
## Program that was started.
var program: String = ""
## When [code]false[/code], stderr lines are kept but not forwarded.
var forward_logs: bool = true

var _stdio: FileAccess = null
var _stderr: FileAccess = null
var _stderr_line: PackedByteArray = PackedByteArray()
var _stderr_dropped: int = 0
var _recent_stderr: PackedStringArray = []
var _exit_code: int = -1
var _outbox: PackedByteArray = PackedByteArray()
var _outbox_sent: int = 0
var _written: int = 0
var _acknowledged: int = 0
var _stalled_since: int = -1


## Bytes written per write, which a pipe surely holds when it is empty (see
## PROTOCOL.md, "Stdin credit"): 32 KiB on Linux, 16 KiB on macOS, 4 KiB on Windows.
static func write_window() -> int:
	match OS.get_name():
		"Windows":
			return 4096
		"macOS":
			return 16384
	return 32768


## Reaps sidecars asked to exit, and kills those past their grace.
static func reap_ended() -> void:
	var now := Time.get_ticks_msec()
	for ended: int in _ending.keys():
		if not OS.is_process_running(ended):
			_ending.erase(ended)
		elif _ending[ended] >= 0 and now >= _ending[ended]:
			OS.kill(ended)
			_ending[ended] = -1


## Starts [param path] with [param args]. Returns "" on success, or what went wrong.
func spawn(path: String, args: PackedStringArray) -> String:
	reap_ended()
	program = path
	var info: Dictionary = OS.execute_with_pipe(path, args)
	if info.is_empty():
		return "could not start %s %s: check that it exists and is executable" % [path, " ".join(args)]
	_stdio = info["stdio"]
	_stderr = info["stderr"]
	pid = info["pid"]
	return ""


## [code]true[/code] while the child runs.
func is_running() -> bool:
	if pid < 0:
		return false
	if _exit_code >= 0:
		return false
	if OS.is_process_running(pid):
		return true
	_exit_code = OS.get_process_exit_code(pid)
	return false


## Exit code once the child has ended, -1 while it runs or if unknown.
func exit_code() -> int:
	if _exit_code < 0 and pid >= 0 and not OS.is_process_running(pid):
		_exit_code = OS.get_process_exit_code(pid)
	return _exit_code


## Appends every byte the child's stdout holds right now to [param into],
## reading at most [param budget] bytes. Never blocks. Returns the bytes read.
func read_available(into: PackedByteArray, budget: int) -> int:
	if _stdio == null:
		return 0
	var total := 0
	while total < budget:
		var n := _stdio.get_length()
		if n <= 0:
			break
		n = mini(n, budget - total)
		var chunk := _stdio.get_buffer(n)
		if chunk.is_empty():
			break
		into.append_array(chunk)
		total += chunk.size()
	return total


## Queues [param data] for the child's stdin; [method write_queued] sends it.
func queue(data: PackedByteArray) -> void:
	_outbox.append_array(data)


## Bytes queued and not written yet.
func unsent() -> int:
	return _outbox.size() - _outbox_sent


## Takes the child's [code]consumed[/code] report: [param total] stdin bytes read so far.
func acknowledge(total: int) -> void:
	if total > _acknowledged and total <= _written:
		_acknowledged = total
		_stalled_since = -1


## Writes as much of the queue as keeps at most [method write_window] bytes
## unacknowledged, if the child still runs; never blocks. Returns "", or what
## went wrong: the write failed, or the child took nothing for
## [constant STALL_LIMIT_MS] while bytes waited. A child that exited is left
## to [method is_running] to report.
func write_queued() -> String:
	var waiting := unsent()
	if waiting <= 0 or _stdio == null:
		return ""
	var in_flight := _written - _acknowledged
	# Until it acknowledged something, a sidecar gets nothing after its first write.
	var room := write_window() - in_flight if _acknowledged > 0 or in_flight == 0 else 0
	if room <= 0:
		var now := Time.get_ticks_msec()
		if _stalled_since < 0:
			_stalled_since = now
		elif now - _stalled_since >= STALL_LIMIT_MS:
			return ("the sidecar took none of the %d bytes written to its stdin for %d ms (%d more waiting): "
					+ "it stopped reading its commands, so it was killed") % [
					_written - _acknowledged, now - _stalled_since, waiting]
		return ""
	var n := mini(waiting, room)
	var chunk := _outbox if _outbox_sent == 0 and n == _outbox.size() else _outbox.slice(_outbox_sent, _outbox_sent + n)
	# Checked right before the write: a pipe without a reader raises SIGPIPE.
	if not is_running():
		return ""
	if not _stdio.store_buffer(chunk):
		return "writing %d bytes to the sidecar's stdin failed: the pipe is broken" % n
	_written += n
	_outbox_sent += n
	if _outbox_sent == _outbox.size():
		_outbox.clear()
		_outbox_sent = 0
	elif _outbox_sent >= 1024 * 1024 and _outbox_sent * 2 >= _outbox.size():
		_outbox = _outbox.slice(_outbox_sent)
		_outbox_sent = 0
	return ""


## Reads what stderr holds (at most [constant STDERR_READ_BUDGET] bytes) and
## forwards every complete line. Each byte is looked at once; a line longer
## than [constant MAX_STDERR_LINE_BYTES] is cut there.
func drain_stderr() -> void:
	if _stderr == null:
		return
	var budget := STDERR_READ_BUDGET
	while budget > 0:
		var n := mini(_stderr.get_length(), budget)
		if n <= 0:
			return
		budget -= n
		_take_stderr(_stderr.get_buffer(n))


## Forwards a last unterminated stderr line, if any (call once the child ended).
func flush_stderr() -> void:
	drain_stderr()
	if not _stderr_line.is_empty() or _stderr_dropped > 0:
		_end_stderr_line()


## " (its last output: ...)" with the last three stderr lines, to end an
## error message; "" when the child wrote nothing.
func output_hint() -> String:
	flush_stderr()
	if _recent_stderr.is_empty():
		return ""
	return " (its last output: %s)" % " | ".join(_recent_stderr.slice(maxi(0, _recent_stderr.size() - 3)))


## Ends this side of the run without blocking: closes the pipes and leaves the
## child to exit by itself (it was sent [code]shutdown[/code], or has exited),
## killing it if it still runs [constant EXIT_GRACE_MS] later, or at once with
## [param kill_now].
func finish(kill_now: bool) -> void:
	if pid >= 0 and is_running():
		if kill_now:
			OS.kill(pid)
			_ending[pid] = -1
		else:
			_ending[pid] = Time.get_ticks_msec() + EXIT_GRACE_MS
	if _stdio != null:
		_stdio.close()
		_stdio = null
	if _stderr != null:
		if forward_logs:
			drain_stderr()
		StderrCloser.close(_stderr)
		_stderr = null
	reap_ended()


func _take_stderr(bytes: PackedByteArray) -> void:
	var start := 0
	var newline := bytes.find(10)
	while newline >= 0:
		_append_stderr(bytes, start, newline)
		_end_stderr_line()
		start = newline + 1
		newline = bytes.find(10, start)
	_append_stderr(bytes, start, bytes.size())


func _append_stderr(bytes: PackedByteArray, from: int, to: int) -> void:
	var room := MAX_STDERR_LINE_BYTES - _stderr_line.size()
	if to - from > room:
		_stderr_dropped += to - from - maxi(room, 0)
		to = from + maxi(room, 0)
	if to > from:
		_stderr_line.append_array(bytes.slice(from, to))


func _end_stderr_line() -> void:
	var line := _stderr_line.get_string_from_utf8().strip_edges(false, true)
	if _stderr_dropped > 0:
		line += " ... (%d more bytes)" % _stderr_dropped
	_stderr_line.clear()
	_stderr_dropped = 0
	_forward(line)


func _forward(line: String) -> void:
	if line.is_empty():
		return
	_recent_stderr.append(line)
	if _recent_stderr.size() > KEPT_STDERR_LINES:
		_recent_stderr.remove_at(0)
	if not forward_logs:
		return
	if line.begins_with("error: "):
		push_error(LOG_PREFIX + line.substr(7))
	elif line.begins_with("warn: "):
		push_warning(LOG_PREFIX + line.substr(6))
	elif line.begins_with("info: "):
		print(LOG_PREFIX + line.substr(6))
	else:
		print(LOG_PREFIX + line)
