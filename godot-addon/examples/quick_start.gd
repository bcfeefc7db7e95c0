# The Quick Start from the WebSocketServer GDExtension README, verbatim below: it must keep working unchanged.
# gdlint:disable=trailing-whitespace,unused-argument
extends Node

var server = WebSocketServer.new()

func _ready():
    # Connect to server signals
    server.client_connected.connect(_on_client_connected)
    server.client_disconnected.connect(_on_client_disconnected)
    server.message_received.connect(_on_message_received)
    server.data_received.connect(_on_data_received)
    
    # Start server on port 8080
    if server.start(8080, "0.0.0.0"):
        print("WebSocket server started on port 8080")
    else:
        print("Failed to start server")

func _process(delta:float) -> void:
    if server and server.is_listening():
        # Process queued signals from background thread
        server.process()

func _on_client_connected(client_id: int):
    print("Client connected: ", client_id)
    server.send_text(client_id, "Welcome to the server!")

func _on_client_disconnected(client_id: int, code: int):
    print("Client disconnected: ", client_id, " with code: ", code)

func _on_message_received(client_id: int, message: String):
    print("Text from client ", client_id, ": ", message)
    # Echo message back
    server.send_text(client_id, "Echo: " + message)

func _on_data_received(client_id: int, data: PackedByteArray):
    print("Binary data from client ", client_id, ": ", data.size(), " bytes")
    # Echo binary data back
    server.send_binary(client_id, data)
