extends Node
## A small chat server with rooms, using a [WebSocketServer] node from the scene.
##
## Connect with [code]ws://localhost:8081/?name=alice&room=lobby[/code]. Every
## line a client sends goes to the others in its room; [code]/join <room>[/code]
## switches rooms and [code]/who[/code] lists who is in the room.

## Room a client joins when its URL names none.
const DEFAULT_ROOM: String = "lobby"

var _names: Dictionary = {}
var _rooms: Dictionary = {}

@onready var _server: WebSocketServer = $Server


func _ready() -> void:
	_server.client_connected.connect(_on_client_connected)
	_server.client_disconnected.connect(_on_client_disconnected)
	_server.message_received.connect(_on_message_received)
	_server.server_error.connect(func(error: String) -> void: push_warning("chat server: " + error))
	if _server.is_listening():
		print("Chat server listening on port %d" % _server.get_port())


func _on_client_connected(client_id: int) -> void:
	var query := _parse_query(str(_server.get_client_info(client_id).get("query", "")))
	var display_name: String = query.get("name", "guest%d" % client_id)
	_names[client_id] = display_name
	_server.send_text(client_id, "Welcome %s! /join <room> switches rooms, /who lists the room." % display_name)
	_enter(client_id, query.get("room", DEFAULT_ROOM))


func _on_client_disconnected(client_id: int, _code: int) -> void:
	if _rooms.has(client_id):
		_server.broadcast_text_to_room(_rooms[client_id], "* %s left" % _names[client_id], client_id)
	_rooms.erase(client_id)
	_names.erase(client_id)


func _on_message_received(client_id: int, message: String) -> void:
	if message.begins_with("/join "):
		var room := message.substr(6).strip_edges()
		if room.is_empty():
			_server.send_text(client_id, "usage: /join <room>")
			return
		_server.broadcast_text_to_room(_rooms[client_id], "* %s left for #%s" % [_names[client_id], room], client_id)
		_server.leave_room(client_id, _rooms[client_id])
		_enter(client_id, room)
	elif message == "/who":
		var here: PackedStringArray = []
		for id: int in _rooms:
			if _rooms[id] == _rooms[client_id]:
				here.append(_names[id])
		_server.send_text(client_id, "in #%s: %s" % [_rooms[client_id], ", ".join(here)])
	else:
		_server.broadcast_text_to_room(_rooms[client_id], "%s: %s" % [_names[client_id], message], client_id)


func _enter(client_id: int, room: String) -> void:
	_rooms[client_id] = room
	_server.join_room(client_id, room)
	_server.send_text(client_id, "you are in #%s" % room)
	_server.broadcast_text_to_room(room, "* %s joined #%s" % [_names[client_id], room], client_id)


func _parse_query(query: String) -> Dictionary:
	var result := {}
	for pair: String in query.split("&", false):
		var eq := pair.find("=")
		if eq > 0:
			result[pair.substr(0, eq).uri_decode()] = pair.substr(eq + 1).uri_decode()
	return result
