extends RefCounted
## One call of the node's [code]process()[/code]: rounds of the session's
## [code]pump[/code] while the pipe comes full, within a time budget, and
## never inside itself.
##
## A [code]process()[/code] called from a signal handler that the outer call
## emitted returns at once and does nothing: the outer call is in the middle
## of the read buffer, and carries on once the handler returns (defect 4 of
## issue #18 saw a re-entrant call take the buffer from under it).

const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")

## Most read-dispatch-write rounds in one call. A pipe holds 64 KiB on Linux,
## so one read per frame capped the addon at about 800 small messages per
## frame; while the handlers of one round run, the sidecar refills the pipe,
## and the next round takes that.
const MAX_ROUNDS: int = 8
## A read this large means the pipe was (nearly) full: more is likely waiting.
const FULL_PIPE_BYTES: int = 32 * 1024

var _session: SidecarSession
var _running: bool = false


func _init(session: SidecarSession) -> void:
	_session = session


## [code]true[/code] while a call runs (its handlers are being called).
func is_running() -> bool:
	return _running


## Runs one call. Events are dispatched until [param budget_ms] milliseconds
## have passed (0: no limit; checked between events, so one slow handler may
## overrun it); the rest stays queued, in order, for the next call.
func run(budget_ms: int) -> void:
	if _running:
		return
	_running = true
	var deadline := Time.get_ticks_usec() + budget_ms * 1000 if budget_ms > 0 else 0
	for _round: int in MAX_ROUNDS:
		if _session.child == null or _session.pump(false, deadline) < FULL_PIPE_BYTES:
			break
		if deadline > 0 and Time.get_ticks_usec() >= deadline:
			break
	_running = false
