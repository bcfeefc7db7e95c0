extends RefCounted
## The end of a server run, reported in the order a game can rely on:
## [code]server_error[/code] (when there is one), then each client gone
## ([code]client_disconnected[/code], [code]client_closed[/code]), then
## [code]server_stopped[/code].
##
## What is still to be reported is kept here, so a handler of one of these
## signals that calls [code]start()[/code] (the error text suggests it) can
## have the rest reported first ([method finish]): the new run's signals then
## always follow the old run's, and nothing is reported twice.

var _server: Node
var _clients: Array = []
var _code: int = 1001
var _reason: String = ""
var _stopped: bool = false


## [param server] is the node whose signals are emitted.
func _init(server: Node) -> void:
	_server = server


## Reports the end of a run whose clients were [param client_ids]: they are
## reported gone with [param code] and [param reason], after
## [code]server_error[/code]([param message]) when [param message] is set, and
## followed by [code]server_stopped[/code] when [param stopped].
func report(client_ids: Array, message: String, code: int, reason: String, stopped: bool) -> void:
	_clients.append_array(client_ids)
	_code = code
	_reason = reason
	_stopped = _stopped or stopped
	if not message.is_empty():
		_server.emit_signal(&"server_error", message)
	finish()


## Reports what is left: each client not yet reported gone, then
## [code]server_stopped[/code] if still owed. Safe to call from the handlers of
## those signals.
func finish() -> void:
	while not _clients.is_empty():
		var id: int = _clients.pop_front()
		_server.emit_signal(&"client_disconnected", id, _code)
		_server.emit_signal(&"client_closed", id, _code, _reason, false)
	if _stopped:
		_stopped = false
		_server.emit_signal(&"server_stopped")
