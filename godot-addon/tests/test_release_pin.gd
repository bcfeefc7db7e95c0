extends RefCounted
## release_pin.gd: parsing release.json, the download URL and the by-hand
## instructions, and the committed file itself.

const ReleasePin := preload("res://addons/websocket_server/release_pin.gd")
const Protocol := preload("res://addons/websocket_server/protocol.gd")
const Runner := preload("res://tests/run_tests.gd")

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	var sha := "AB".repeat(32)
	var text := JSON.stringify({
		"version": "0.1.0", "repository": "someone/godot-websocket-server",
		"base_url": "https://github.com/{repository}/releases/download/v{version}",
		"platforms": {"linux-x64": [{"asset": "websocket-sidecar-linux-x64.zst", "file": "websocket-sidecar.zst",
				"size": 1234, "sha256": sha}]},
	})
	var pin := ReleasePin.parse(text)
	t.check_eq(pin["platforms"], {"linux-x64": [{"asset": "websocket-sidecar-linux-x64.zst",
			"file": "websocket-sidecar.zst", "size": 1234, "sha256": sha.to_lower()}]},
			"a pinned release parses, with the hash in lower case")
	t.check_eq(ReleasePin.base_url(pin, ""),
			"https://github.com/someone/godot-websocket-server/releases/download/v0.1.0/",
			"the base URL fills in repository and version and ends in /")
	t.check_eq(ReleasePin.base_url(pin, " fork/ws "), "https://github.com/fork/ws/releases/download/v0.1.0/",
			"the project setting overrides the file's repository")
	t.check_eq(ReleasePin.releases_page(pin, ""), "https://github.com/someone/godot-websocket-server/releases",
			"the releases page is derived from the base URL")
	var manual := ReleasePin.manual_instructions(pin, "linux-x64", "", "/game/addons/websocket_server/bin/linux-x64")
	t.check(manual.contains("https://github.com/someone/godot-websocket-server/releases/download/v0.1.0/"
			+ "websocket-sidecar-linux-x64.zst (1234 bytes, SHA-256 " + sha.to_lower() + ")")
			and manual.contains("save it as /game/addons/websocket_server/bin/linux-x64/websocket-sidecar.zst"),
			"the by-hand instructions name the URL, size, hash and destination: " + manual)

	for bad: Array in [
		["[]", "is not a JSON object"],
		['{"version": "1", "repository": "", "base_url": "x"}', "has no object \"platforms\""],
		[text.replace("websocket-sidecar.zst", "../../plugin.gd"), "is not a plain file name"],
		[text.replace(sha, "12"), "is not 64 hex digits"],
		[text.replace("1234", "0"), "positive number \"size\""],
		[text.replace('"repository":"someone/godot-websocket-server",', ""), "has no string \"repository\""],
	]:
		var parsed := ReleasePin.parse(bad[0])
		t.check(str(parsed.get("error", "")).contains(bad[1]), "refused: %s (got %s)" % [bad[1], parsed])

	var committed := ReleasePin.load_pin()
	t.check(not committed.has("error"), "the addon's release.json parses: %s" % committed)
	if committed.has("error"):
		return
	t.check_eq(committed["version"], Protocol.ADDON_VERSION, "release.json is for this addon's version")
	var unpinned := {"version": "0.1.0", "repository": "", "base_url": committed["base_url"], "platforms": {}}
	t.check_eq(ReleasePin.base_url(unpinned, ""), "", "no repository, no download URL")
	t.check(ReleasePin.manual_instructions(unpinned, "windows-x64", "", "/x").begins_with(
			"No release is pinned in this copy of the addon; build it with `npm run release` or download the zip"),
			"an unpinned copy says so and how to get the files")
