extends Node2D
## A spawned player: [member score] is replicated by its MultiplayerSynchronizer.

## Set by the server; clients see it through the synchronizer.
@export var score: int = 0
