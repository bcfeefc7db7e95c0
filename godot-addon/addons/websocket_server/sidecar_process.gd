extends RefCounted
## The sidecar child process and its pipes.
##
## Spawns the program with [method OS.execute_with_pipe], reads only the bytes
## the pipes hold ([method FileAccess.get_length] on a pipe returns the bytes
## available), writes with one [method FileAccess.store_buffer] per call, and
## forwards stderr lines to Godot's Output: [code]error:[/code] lines through
## [method @GlobalScope.push_error], [code]warn:[/code] lines through
## [method @GlobalScope.push_warning], others through [method @GlobalScope.print].

## Lines of stderr kept for error reports.
const KEPT_STDERR_LINES: int = 12
## Prefix of forwarded log lines.
const LOG_PREFIX: String = "[WebSocketServer sidecar] "

## Stderr pipes are never closed, only kept here. Godot 4.4 opens the stderr
## pipe of [method OS.execute_with_pipe] with 0 as its unused write end, so
## closing or freeing it closes the game's own stdin (fd 0); the next
## [method OS.execute_with_pipe] then receives fd 0 for the child's stdin pipe,
## the child starts with stdin already at EOF, and writing to it raises
## SIGPIPE, which ends the game. Keeping the FileAccess costs one descriptor per
## sidecar started.
static var _stderr_keepalive: Array[FileAccess] = []

## Process id, or -1 before [method spawn] succeeds.
var pid: int = -1
## Program that was started.
var program: String = ""
## When [code]false[/code], stderr lines are kept but not forwarded.
var forward_logs: bool = true

var _stdio: FileAccess = null
var _stderr: FileAccess = null
var _stderr_partial: PackedByteArray = PackedByteArray()
var _recent_stderr: PackedStringArray = []
var _exit_code: int = -1


## Starts [param path] with [param args]. Returns "" on success, or what went wrong.
func spawn(path: String, args: PackedStringArray) -> String:
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


## Writes [param data] to the child's stdin in one write. Returns
## [code]false[/code] if the child is gone or the write failed. The child is
## checked first: writing to a pipe whose reader exited would raise SIGPIPE,
## which Godot does not ignore on Linux and macOS.
func write(data: PackedByteArray) -> bool:
	if _stdio == null or not is_running():
		return false
	return _stdio.store_buffer(data)


## Reads what stderr holds and forwards every complete line.
func drain_stderr() -> void:
	if _stderr == null:
		return
	var n := _stderr.get_length()
	if n <= 0:
		return
	_stderr_partial.append_array(_stderr.get_buffer(n))
	var start := 0
	var newline := _stderr_partial.find(10, start)
	while newline >= 0:
		_forward(_stderr_partial.slice(start, newline).get_string_from_utf8().strip_edges(false, true))
		start = newline + 1
		newline = _stderr_partial.find(10, start)
	if start > 0:
		_stderr_partial = _stderr_partial.slice(start)


## Forwards a last unterminated stderr line, if any (call once the child ended).
func flush_stderr() -> void:
	drain_stderr()
	if not _stderr_partial.is_empty():
		_forward(_stderr_partial.get_string_from_utf8().strip_edges(false, true))
		_stderr_partial = PackedByteArray()


## " (its last output: ...)" with the last three stderr lines, to end an
## error message; "" when the child wrote nothing.
func output_hint() -> String:
	flush_stderr()
	if _recent_stderr.is_empty():
		return ""
	return " (its last output: %s)" % " | ".join(_recent_stderr.slice(maxi(0, _recent_stderr.size() - 3)))


## Closes the child's stdin (it sees EOF and exits within a second by
## contract), waits up to [param grace_ms] for it to exit while draining
## stderr, then kills it if it still runs. Returns its exit code, or -1 if it
## had to be killed.
func close(grace_ms: int) -> int:
	if _stdio != null:
		_stdio.close()
		_stdio = null
	var deadline := Time.get_ticks_msec() + grace_ms
	while is_running() and Time.get_ticks_msec() < deadline:
		drain_stderr()
		OS.delay_usec(2000)
	if is_running():
		OS.kill(pid)
		var kill_deadline := Time.get_ticks_msec() + 500
		while OS.is_process_running(pid) and Time.get_ticks_msec() < kill_deadline:
			OS.delay_usec(2000)
		_exit_code = -1
	flush_stderr()
	_release_stderr()
	return _exit_code


func _release_stderr() -> void:
	if _stderr != null:
		_stderr_keepalive.append(_stderr)
		_stderr = null


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
