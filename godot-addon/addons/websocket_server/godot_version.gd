extends RefCounted
## The engine version this addon needs, and the check both the editor plugin and
## the node make before doing anything.
##
## [code]plugin.cfg[/code] cannot say it: the editor reads only the
## [code]script[/code] and [code]version[/code] keys of its [code][plugin][/code]
## section (and shows name, author and description), so a
## [code]minimum_godot_version[/code] key there is never enforced.
## 4.4 is the floor because reading a pipe without blocking needs
## [method FileAccess.get_length] to report the bytes a pipe holds
## (godotengine/godot#102365).

## Oldest supported engine, as [code][major, minor][/code].
const MINIMUM: Array[int] = [4, 4]


## Returns "" when the engine described by [param info] (the Dictionary
## [method Engine.get_version_info] returns) can run this addon, or a sentence
## saying which version it is and which one is needed.
static func unsupported_reason(info: Dictionary) -> String:
	var major: int = int(info.get("major", 0))
	var minor: int = int(info.get("minor", 0))
	if major > MINIMUM[0] or (major == MINIMUM[0] and minor >= MINIMUM[1]):
		return ""
	var shown: String = str(info.get("string", "%d.%d" % [major, minor]))
	return ("the WebSocket Server addon needs Godot %d.%d or newer, and this is Godot %s: "
			+ "its sidecar pipe cannot be read without blocking before %d.%d. Upgrade Godot.") % [
			MINIMUM[0], MINIMUM[1], shown, MINIMUM[0], MINIMUM[1]]
