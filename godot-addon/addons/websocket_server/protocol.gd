## Numbers and names fixed by [code]protocol/PROTOCOL.md[/code] (protocol version 1).
##
## A copy of [code]protocol/constants.ts[/code]; the fixture tests keep the two
## honest. Preload it; it has no [code]class_name[/code] so it adds nothing to
## the global namespace.
extends RefCounted

## Version of PROTOCOL.md that this addon speaks.
const PROTOCOL_VERSION: int = 1
## Version of this addon; the sidecar it starts must report the same version.
const ADDON_VERSION: String = "0.1.0"
## Bytes in a frame's little-endian length prefix.
const LENGTH_PREFIX_BYTES: int = 4
## Largest frame body either side accepts (256 MiB).
const MAX_FRAME_LENGTH: int = 268435456

# Commands, host -> sidecar (1-63).
const CMD_START: int = 1
const CMD_STOP: int = 2
const CMD_SEND_TEXT: int = 3
const CMD_SEND_BINARY: int = 4
const CMD_BROADCAST_TEXT: int = 5
const CMD_BROADCAST_BINARY: int = 6
const CMD_JOIN_ROOM: int = 7
const CMD_LEAVE_ROOM: int = 8
const CMD_ROOM_TEXT: int = 9
const CMD_ROOM_BINARY: int = 10
const CMD_DISCONNECT: int = 11
const CMD_ACCEPT: int = 12
const CMD_REJECT: int = 13
const CMD_PING: int = 14
const CMD_GET_STATS: int = 15

# Events, sidecar -> host (64-127).
const EVT_HELLO: int = 64
const EVT_LISTENING: int = 65
const EVT_START_FAILED: int = 66
const EVT_STOPPED: int = 67
const EVT_CONNECTION_REQUEST: int = 68
const EVT_CLIENT_CONNECTED: int = 69
const EVT_TEXT: int = 70
const EVT_BINARY: int = 71
const EVT_CLIENT_DISCONNECTED: int = 72
const EVT_ERROR: int = 73
const EVT_PONG: int = 74
const EVT_STATS: int = 75
const EVT_REQUEST_EXPIRED: int = 76

# Stable codes carried by start_failed and error events.
const ERR_ADDRESS_IN_USE: String = "address_in_use"
const ERR_PERMISSION_DENIED: String = "permission_denied"
const ERR_ADDRESS_NOT_AVAILABLE: String = "address_not_available"
const ERR_LISTEN_FAILED: String = "listen_failed"
const ERR_TLS_FILE_UNREADABLE: String = "tls_file_unreadable"
const ERR_TLS_INVALID: String = "tls_invalid"
const ERR_INVALID_OPTION: String = "invalid_option"
const ERR_PROTOCOL_MISMATCH: String = "protocol_mismatch"
const ERR_ALREADY_LISTENING: String = "already_listening"
const ERR_MALFORMED_COMMAND: String = "malformed_command"
const ERR_UNKNOWN_COMMAND: String = "unknown_command"
const ERR_UNKNOWN_CLIENT: String = "unknown_client"
const ERR_UNKNOWN_REQUEST: String = "unknown_request"
const ERR_INVALID_ARGUMENT: String = "invalid_argument"
const ERR_NOT_LISTENING: String = "not_listening"
const ERR_OUTBOUND_OVERFLOW: String = "outbound_overflow"
const ERR_CLIENT_PROTOCOL_ERROR: String = "client_protocol_error"
const ERR_HEARTBEAT_TIMEOUT: String = "heartbeat_timeout"
const ERR_REJECTED_CONNECTION: String = "rejected_connection"

## Optional features a sidecar announces in [code]hello[/code].
const CAPABILITIES: PackedStringArray = ["tls", "permessage-deflate", "auth", "rooms", "stats"]

## Names of the commands by opcode, for error messages.
const COMMAND_NAMES: Dictionary = {
	1: "start", 2: "stop", 3: "send_text", 4: "send_binary", 5: "broadcast_text",
	6: "broadcast_binary", 7: "join_room", 8: "leave_room", 9: "room_text",
	10: "room_binary", 11: "disconnect", 12: "accept", 13: "reject", 14: "ping",
	15: "get_stats",
}

## Names of the events by opcode, for error messages.
const EVENT_NAMES: Dictionary = {
	64: "hello", 65: "listening", 66: "start_failed", 67: "stopped",
	68: "connection_request", 69: "client_connected", 70: "text", 71: "binary",
	72: "client_disconnected", 73: "error", 74: "pong", 75: "stats", 76: "request_expired",
}
