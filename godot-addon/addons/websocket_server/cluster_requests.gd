extends RefCounted
## The cluster's two questions for [code]WebSocketServer[/code]: the members of a
## room on every server, and the servers with their client counts.
##
## Each request queues one command and returns its token; the answer comes
## back through the node's [code]room_members_received[/code] or
## [code]cluster_stats_received[/code] signal with that token (the event reader
## emits them). Without [code]cluster_url[/code], or while Redis is away, the
## sidecar answers for its own server alone.

const SidecarSession := preload("res://addons/websocket_server/sidecar_session.gd")

var _session: SidecarSession
var _next_token: int = 1


func _init(session: SidecarSession) -> void:
	_session = session


## Queues [code]request_room_members[/code]; returns its token, or -1 without a running sidecar.
func request_room_members(room: String) -> int:
	var token := _take_token()
	if token > 0:
		_session.commands.request_room_members(token, room)
	return token


## Queues [code]request_cluster_stats[/code]; returns its token, or -1 without a running sidecar.
func request_cluster_stats() -> int:
	var token := _take_token()
	if token > 0:
		_session.commands.request_cluster_stats(token)
	return token


func _take_token() -> int:
	if _session.child == null or _session.state == SidecarSession.State.IDLE:
		return -1
	var token := _next_token
	_next_token += 1
	return token
