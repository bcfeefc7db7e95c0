extends RefCounted
## Closes the stderr pipe that [method OS.execute_with_pipe] returned, so that
## a sidecar run leaks no file descriptor.
##
## Godot 4.4 opens that pipe's [FileAccess] with 0 as its unused write end, so
## closing it also closes descriptor 0, the game's stdin. Left free, descriptor
## 0 would go to the next [method OS.execute_with_pipe]'s stdin pipe, whose
## child closes it right after moving it into place: that sidecar would start
## with stdin at EOF, and writing to it would raise SIGPIPE and end the game.
## So descriptor 0 is taken again at once, by an empty file ([method open]
## returns the lowest free descriptor): from the first sidecar's end on, the
## game's stdin reads as empty. [FileAccess] cannot reopen a terminal or a
## pipe (it opens regular files only), so the original stdin cannot be kept;
## a game that reads its stdin ([method OS.read_string_from_stdin]) can call
## [method keep_stdin] first, and then pays one descriptor per sidecar run.
## [br][br]
## Between the close and the reopen (microseconds) another thread that opens a
## file would receive descriptor 0; nothing closes that gap from GDScript.
## On Windows the unused handle is null, closing it does nothing, and the pipe
## is simply closed.

## The empty file that holds descriptor 0, in the user's cache folder.
const EMPTY_FILE_NAME: String = "websocket_server_empty_stdin"

## What holds descriptor 0 since the first close. Never closed while it holds
## it: the next close frees descriptor 0, this one is dropped then (its own
## close fails harmlessly) and replaced.
static var _stdin_holder: FileAccess = null
## Pipes kept open instead of closed ([method keep_stdin], or no empty file).
static var _kept: Array[FileAccess] = []
static var _keep_stdin: bool = false


## From now on, stderr pipes are kept open rather than closed, so the game's
## stdin is never taken; each sidecar run then keeps one descriptor.
static func keep_stdin() -> void:
	_keep_stdin = true


## Closes [param stderr], a [FileAccess] from [method OS.execute_with_pipe].
static func close(stderr: FileAccess) -> void:
	if OS.get_name() == "Windows":
		stderr.close()
		return
	var empty := _empty_file()
	if _keep_stdin or empty.is_empty():
		_kept.append(stderr)
		return
	stderr.close()
	# Descriptor 0 is free now: the holder must be the next thing opened.
	_stdin_holder = null
	_stdin_holder = FileAccess.open(empty, FileAccess.READ)


# The path of an empty regular file (created once), or "" when none can be made.
static func _empty_file() -> String:
	var path := OS.get_cache_dir().path_join(EMPTY_FILE_NAME)
	if FileAccess.file_exists(path) and FileAccess.get_file_as_bytes(path).is_empty():
		return path
	var file := FileAccess.open(path, FileAccess.WRITE)
	if file == null:
		return ""
	file.close()
	return path
