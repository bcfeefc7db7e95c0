extends RefCounted
## The [code]start[/code] command's options, read from a
## [code]WebSocketServer[/code] node's properties.

## The properties sent as [code]start[/code] options under their own names
## (besides port and host), in the order of PROTOCOL.md's table.
const NAMES: PackedStringArray = [
	"path", "max_message_size", "max_clients", "handshake_timeout_ms", "heartbeat_interval_ms",
	"heartbeat_timeout_ms", "subprotocols", "response_headers", "allowed_origins", "permessage_deflate",
	"tls_cert_path", "tls_key_path", "auth", "auth_timeout_ms", "max_outbound_buffer", "max_messages_per_second",
	"message_burst", "close_timeout_ms", "max_pending_requests", "max_inbound_total", "max_queued_events",
	"cluster_url", "cluster_presence_ttl_ms", "metrics_port", "metrics_host",
	"multiplayer_peer_ids",
]


## The options of [param server] for listening on [param port] at [param host];
## [code]res://[/code] and [code]user://[/code] TLS paths become paths on disk,
## since the sidecar cannot read Godot's virtual file system.
static func of(server: Node, port: int, host: String) -> Dictionary:
	var options := {"port": port, "host": host}
	for option: String in NAMES:
		options[option] = server.get(option)
	options["tls_cert_path"] = _global_path(options["tls_cert_path"])
	options["tls_key_path"] = _global_path(options["tls_key_path"])
	return options


static func _global_path(file_path: String) -> String:
	if file_path.begins_with("res://") or file_path.begins_with("user://"):
		return ProjectSettings.globalize_path(file_path)
	return file_path
