extends RefCounted
## The write side of a session (static functions taking the
## [code]sidecarsession.gd[/code]): hands its queued commands to the sidecar
## process, which writes them under the sidecar's stdin credit
## ([code]sidecar_process.gd[/code], PROTOCOL.md "Stdin credit"), and waits
## for that credit, briefly, when commands are left waiting.
##
## Waiting means reading what the sidecar sends (the credit comes with its
## events) and dispatching it through the session as [method pump] does, so
## signals may fire meanwhile. Both waits are bounded: [constant CREDIT_WAIT_US]
## in a turn, the caller's bound in [method drain].

## While commands wait for credit, a turn waits up to this long
## (microseconds) for it, so large sends are not held to one write window
## per frame.
const CREDIT_WAIT_US: int = 4000
## How often a wait for credit looks at the pipe, in microseconds.
const CREDIT_POLL_US: int = 20

## Hands the queued commands to the process and writes what the credit allows
## now. Never blocks. A write that failed, or a sidecar that took nothing for
## 2 s, ends the run through the session's [code]fatal[/code].
static func flush(session: RefCounted) -> void:
	var child: RefCounted = session.child
	if child == null:
		return
	var commands: RefCounted = session.commands
	if not commands.buffer.is_empty():
		child.queue(commands.buffer)
		commands.clear()
	var problem: String = child.write_queued()
	if not problem.is_empty():
		session.fatal(problem + "; call start() again")


## After a turn's flush: waits up to [constant CREDIT_WAIT_US] for the credit
## the waiting commands need. Returns the bytes read meanwhile.
static func catch_up(session: RefCounted, only_until_started: bool) -> int:
	return _write_on(session, Time.get_ticks_usec() + CREDIT_WAIT_US, only_until_started)


## Writes every queued command, waiting for credit at most [param wait_ms].
## Returns [code]true[/code] when everything went out.
static func drain(session: RefCounted, wait_ms: int) -> bool:
	var generation: int = session.run_generation()
	flush(session)
	_write_on(session, Time.get_ticks_usec() + wait_ms * 1000, false)
	return session.child != null and generation == session.run_generation() and session.child.unsent() == 0


## Ends [param child], the session's sidecar: with [param graceful], writes the
## queued commands and [code]shutdown[/code], waiting at most [param wait_ms],
## and leaves it to exit by itself; otherwise, or when they did not all go
## out, kills it at once.
static func finish(session: RefCounted, child: RefCounted, graceful: bool, wait_ms: int) -> void:
	var sent := false
	if graceful and child.is_running():
		session.commands.shutdown()
		sent = drain(session, wait_ms) and session.child == child
	child.finish(not sent)


# While commands wait, reads and dispatches what the sidecar sends (the credit
# among it) and writes on, until [param until_usec]. Returns the bytes read.
static func _write_on(session: RefCounted, until_usec: int, only_until_started: bool) -> int:
	var generation: int = session.run_generation()
	var got := 0
	while generation == session.run_generation() and session.child != null:
		var child: RefCounted = session.child
		if child.unsent() == 0 or not child.is_running() or Time.get_ticks_usec() >= until_usec:
			break
		OS.delay_usec(CREDIT_POLL_US)
		got += session.read_events(only_until_started)
		if generation == session.run_generation():
			flush(session)
	return got
