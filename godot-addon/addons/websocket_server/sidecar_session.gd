extends RefCounted
## One server run of the sidecar, from spawn to shutdown, on behalf of a
## [code]WebSocketServer[/code] node.
##
## Finds and spawns the sidecar ([code]sidecar_locator.gd[/code],
## [code]sidecar_process.gd[/code]), sends [code]start[/code] and waits for the
## handshake ([code]hello[/code], then [code]listening[/code] or
## [code]start_failed[/code]), then each [method pump] reads stdout into the
## [member events] reader, drains stderr and sends the [member commands]
## ([code]command_sender.gd[/code]: under the sidecar's stdin credit). It
## handles the events that change what it keeps (state, port, clients, pending
## requests, credit) and emits the matching signals of the node; [method stop]
## and the sidecar's death end the run, never waiting for the sidecar to exit:
## it gets [code]shutdown[/code] (stdin EOF is not reliable: processes the game
## starts later inherit the pipe), closes its clients with 1001 and exits.

enum State { IDLE, STARTING, LISTENING, STOPPING }

const Protocol := preload("res://addons/websocket_server/protocol.gd")
const SidecarProcess := preload("res://addons/websocket_server/sidecar_process.gd")
const SidecarLocator := preload("res://addons/websocket_server/sidecar_locator.gd")
const CommandWriter := preload("res://addons/websocket_server/command_writer.gd")
const EventReader := preload("res://addons/websocket_server/event_reader.gd")
const RunEnding := preload("res://addons/websocket_server/run_ending.gd")
const CommandSender := preload("res://addons/websocket_server/command_sender.gd")

## Most bytes read from the sidecar per [method pump].
const READ_BUDGET_BYTES: int = 16 * 1024 * 1024
## Longest the main thread waits, ending a run, for the sidecar to take the
## last commands and [code]shutdown[/code]; one that does not is killed.
const FINAL_WRITE_MS: int = 100

## Where the run is.
var state: State = State.IDLE
## Commands waiting for the next write to the sidecar.
var commands: CommandWriter = CommandWriter.new()
## The sidecar's stdout, split into events.
var events: EventReader
## The running sidecar, or [code]null[/code].
var child: SidecarProcess = null
## Connected clients: id to the info of [code]client_connected[/code].
var clients: Dictionary = {}
## Connection requests waiting for accept or reject: id to [code]true[/code].
var pending_requests: Dictionary = {}
## The real port once listening.
var port: int = 0
## [code]true[/code] when listening with TLS.
var tls: bool = false
## Features the sidecar announced in [code]hello[/code].
var capabilities: PackedStringArray = []

var _server: Node
var _ending: RunEnding
var _generation: int = 0
var _start_error: String = ""
var _greeted: bool = false


## [param server] is the node whose signals this session emits.
func _init(server: Node) -> void:
	_server = server
	_ending = RunEnding.new(server)
	events = EventReader.new(commands, server)


## Spawns the sidecar at [param sidecar_path] (empty: look for it), sends
## [code]start[/code] with [param options] and waits until it listens or
## fails, at most [param timeout_ms]. Returns "" when listening, else why not.
func start(options: Dictionary, sidecar_path: String, forward_logs: bool, timeout_ms: int) -> String:
	# Called from a handler of the old run's end (server_error): that end is
	# reported in full before the new run begins.
	_ending.finish()
	if state == State.LISTENING:
		return ("start(%d, \"%s\") called while already listening on port %d: call stop() first"
				% [options["port"], options["host"], port])
	if child != null:
		teardown(false)
	_generation += 1
	_reset()
	var found := SidecarLocator.locate(sidecar_path)
	if found.has("error"):
		return str(found["error"])
	var spawn_error := spawn(found["program"], found["args"], forward_logs)
	if not spawn_error.is_empty():
		return spawn_error
	var option_error := commands.start(options)
	if not option_error.is_empty():
		push_error("WebSocketServer: " + option_error)
	flush()
	var generation := _generation
	var deadline := Time.get_ticks_msec() + timeout_ms
	while state == State.STARTING and generation == _generation:
		pump(true)
		if state != State.STARTING or generation != _generation:
			break
		if Time.get_ticks_msec() >= deadline:
			_start_error = ("the sidecar (%s) did not report listening within %d ms%s: "
					+ "check the lines above, or raise startup_timeout_ms") % [child.program, timeout_ms,
					child.output_hint()]
			break
		OS.delay_usec(mini(1000, maxi(0, deadline - Time.get_ticks_msec()) * 1000))
	if state == State.LISTENING:
		return ""
	var reason := _start_error if not _start_error.is_empty() else "the sidecar stopped before it listened"
	# It has no client yet: ending it at once keeps start() within its timeout.
	teardown(false, false)
	return reason


## Starts [param program] with [param args] as this session's sidecar and
## waits for its handshake: the state becomes STARTING. Returns "" or what went
## wrong. [method start] calls it; tests may spawn a stand-in.
func spawn(program: String, args: PackedStringArray, forward_logs: bool) -> String:
	child = SidecarProcess.new()
	child.forward_logs = forward_logs
	var with_credit := args.duplicate()
	with_credit.append(Protocol.STDIN_CREDIT_ARG)
	var error := child.spawn(program, with_credit)
	if not error.is_empty():
		child = null
		return error
	state = State.STARTING
	return ""


## Ends the run at once (see [method teardown]); emits the node's
## [code]client_disconnected[/code] (1001) for each client and [code]server_stopped[/code].
func stop() -> void:
	if child == null:
		return
	_generation += 1
	events.interrupt()
	teardown(true)


## One turn: read, dispatch, drain stderr, write, check the child is alive.
## Dispatching stops at [param deadline_usec] ([method Time.get_ticks_usec];
## 0: no limit) and the rest waits in [member events] for the next turn, which
## reads no more while [constant READ_BUDGET_BYTES] wait. Returns the bytes read.
func pump(only_until_started: bool, deadline_usec: int = 0) -> int:
	var generation := _generation
	var got := read_events(only_until_started, deadline_usec)
	if generation != _generation or child == null:
		return got
	child.drain_stderr()
	flush()
	if child != null and child.unsent() > 0:
		got += CommandSender.catch_up(self, only_until_started)
		if generation != _generation or child == null:
			return got
	if child != null and not child.is_running():
		# Dispatch everything it wrote before it exited (budget or not), then
		# report the exit.
		child.read_available(events.buffer, READ_BUDGET_BYTES)
		events.read_frames(self, only_until_started)
		if generation != _generation or child == null:
			return got
		_on_sidecar_exited()
	return got


## Reads what stdout holds and dispatches every whole event. Returns the bytes read.
func read_events(only_until_started: bool, deadline_usec: int = 0) -> int:
	var got := child.read_available(events.buffer, maxi(0, READ_BUDGET_BYTES - events.buffer.size()))
	events.read_frames(self, only_until_started, deadline_usec)
	return got


## Hands the queued commands to the process, which writes what the sidecar's
## credit allows now. Never blocks.
func flush() -> void:
	CommandSender.flush(self)


## Changes whenever a run starts or ends: loops that run user code stop when it does.
func run_generation() -> int:
	return _generation


## Ends the sidecar; with [param emit_signals], reports every client as
## closed with 1001 and emits [code]server_stopped[/code] if a run was active.
## [param graceful] sends the queued commands and [code]shutdown[/code] first
## and leaves the sidecar to exit; otherwise it is killed at once.
func teardown(emit_signals: bool, graceful: bool = true) -> void:
	var was_active := state != State.IDLE or child != null
	if child != null:
		var ending := child
		if graceful and ending.is_running():
			state = State.STOPPING
		CommandSender.finish(self, ending, graceful, FINAL_WRITE_MS)
		if child == ending:
			child = null
	state = State.IDLE
	events.reset()
	commands.clear()
	pending_requests.clear()
	if emit_signals:
		_end_run("", 1001, "server stopped", was_active)


## Reports [param message] through the node's [code]server_error[/code].
func report_error(message: String) -> void:
	_server.emit_signal(&"server_error", message)


## Ends the run for a broken stream: before listening it becomes the start
## error, afterwards a [code]server_error[/code].
func fatal(message: String) -> void:
	_generation += 1
	events.interrupt()
	if state == State.STARTING:
		_start_error = message
		state = State.IDLE
		return
	teardown(false, false)
	_end_run(message, 1006, "the server's sidecar process ended", true)


## [code]true[/code] while waiting for the handshake.
func is_starting() -> bool:
	return state == State.STARTING


func on_hello(protocol_version: int, sidecar_version: String, announced: Array) -> void:
	_greeted = true
	capabilities = PackedStringArray(announced.filter(func(c: Variant) -> bool: return c is String))
	if protocol_version != Protocol.PROTOCOL_VERSION:
		_start_error = (("the sidecar speaks protocol %d, this addon speaks %d: "
				+ "rebuild or reinstall the addon so both come from the same release")
				% [protocol_version, Protocol.PROTOCOL_VERSION])
		state = State.IDLE
	elif sidecar_version != Protocol.ADDON_VERSION:
		_start_error = (("the sidecar is version %s, this addon is version %s: "
				+ "rebuild or reinstall the addon so both come from the same release")
				% [sidecar_version, Protocol.ADDON_VERSION])
		state = State.IDLE


func on_listening(listening_port: int, with_tls: bool) -> void:
	if state == State.STARTING and not _greeted:
		_start_error = (("the sidecar (%s) reported listening without saying hello first, so its protocol "
				+ "version is unknown: it is not this addon's sidecar; reinstall the addon") % child.program)
		state = State.IDLE
	elif state == State.STARTING:
		port = listening_port
		tls = with_tls
		state = State.LISTENING
		_server.emit_signal(&"server_started", port)


func on_start_failed(code: String, message: String) -> void:
	_start_error = "%s (%s)" % [message, code]
	state = State.IDLE


func on_consumed(total: int) -> void:
	if child != null:
		child.acknowledge(total)


func on_stopped() -> void:
	if state == State.STOPPING:
		state = State.IDLE


func on_client_connected(client_id: int, info: Dictionary) -> void:
	clients[client_id] = info
	_server.emit_signal(&"client_connected", client_id)


func on_client_disconnected(client_id: int, code: int, reason: String, clean: bool) -> void:
	clients.erase(client_id)
	_server.emit_signal(&"client_disconnected", client_id, code)
	_server.emit_signal(&"client_closed", client_id, code, reason, clean)


func on_connection_request(request_id: int, info: Dictionary) -> void:
	pending_requests[request_id] = true
	_server.emit_signal(&"connection_requested", request_id, info)


func on_request_expired(request_id: int) -> void:
	pending_requests.erase(request_id)
	_server.emit_signal(&"connection_request_expired", request_id)


func _on_sidecar_exited() -> void:
	var code := child.exit_code()
	if state == State.STARTING:
		if _start_error.is_empty():
			_start_error = "the sidecar (%s) exited with code %d before it listened%s" % [child.program, code,
					child.output_hint()]
		state = State.IDLE
		return
	if state == State.STOPPING:
		# A teardown in progress (a handler pumped during its drain) finishes the job.
		return
	var was_listening := state == State.LISTENING
	var message := ("the sidecar (%s) exited unexpectedly with code %d%s; every client was dropped. "
			+ "Call start() to restart it.") % [child.program, code, child.output_hint()]
	teardown(false)
	_end_run(message if was_listening else "", 1006, "the server's sidecar process ended", true)


# Ends the run: server_error (when [param message] is set), each client gone,
# then server_stopped (run_ending.gd keeps that order across a start()).
func _end_run(message: String, code: int, reason: String, stopped: bool) -> void:
	var ids := clients.keys()
	clients.clear()
	_ending.report(ids, message, code, reason, stopped)


func _reset() -> void:
	state = State.IDLE
	events.reset()
	commands.clear()
	clients.clear()
	pending_requests.clear()
	port = 0
	tls = false
	capabilities = []
	_start_error = ""
	_greeted = false
