extends RefCounted
## export_selection.gd: which sidecar files an export carries, for each
## platform, architecture, ship_raw_binary setting and set of files present.

const ExportSelection := preload("res://addons/websocket_server/export_selection.gd")
const Runner := preload("res://tests/run_tests.gd")

const BIN: String = "res://addons/websocket_server/bin/"
const LINUX: PackedStringArray = ["pc", "linux", "x86_64", "release"]
const UNIVERSAL: PackedStringArray = ["macos", "universal", "x86_64", "arm64", "s3tc", "bptc"]

var t: Runner


func run(runner: Runner) -> void:
	t = runner
	_test_platform_dirs()
	_test_compressed()
	_test_ship_raw()
	_test_universal_macos()
	_test_missing()


func _test_platform_dirs() -> void:
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(LINUX)), PackedStringArray(["linux-x64"]), "Linux")
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(["pc", "windows", "x86_64"])),
			PackedStringArray(["windows-x64"]), "Windows")
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(["macos", "arm64"])),
			PackedStringArray(["macos-arm64"]), "macOS arm64 alone")
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(["macos", "x86_64"])),
			PackedStringArray(["macos-x64"]), "macOS x86_64 alone")
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(UNIVERSAL)),
			PackedStringArray(["macos-arm64", "macos-x64"]), "a universal macOS export needs both macOS sidecars")
	t.check_eq(ExportSelection.platform_dirs(PackedStringArray(["web", "wasm32"])), PackedStringArray(), "the Web: none")
	t.check_eq(ExportSelection.files_of("windows-x64"), {
		"raw": BIN + "windows-x64/websocket-sidecar.exe",
		"zst": BIN + "windows-x64/websocket-sidecar.exe.zst",
		"manifest": BIN + "windows-x64/websocket-sidecar.json",
	}, "Windows file names")
	t.check_eq(ExportSelection.candidate_files(PackedStringArray(UNIVERSAL)).size(), 6,
			"a universal export looks at both macOS folders")


func _test_compressed() -> void:
	var all := _all_files(["linux-x64", "windows-x64"])
	var plan := ExportSelection.plan(PackedStringArray(LINUX), false, all)
	t.check_eq(plan["pack"], PackedStringArray([BIN + "linux-x64/websocket-sidecar.zst",
			BIN + "linux-x64/websocket-sidecar.json"]), "Linux packs its compressed sidecar and manifest, nothing else")
	t.check_eq([plan["raw"], plan["raw_from"], plan["errors"]], ["", "", PackedStringArray()], "and no raw, no error")


func _test_ship_raw() -> void:
	var plan := ExportSelection.plan(PackedStringArray(LINUX), true, _all_files(["linux-x64"]))
	t.check_eq(plan["raw"], BIN + "linux-x64/websocket-sidecar", "ship_raw_binary with the raw executable built")
	t.check_eq(plan["pack"].size(), 2, "the compressed sidecar is packed too")
	var from_zip := _all_files(["linux-x64"])
	from_zip.remove_at(from_zip.find(BIN + "linux-x64/websocket-sidecar"))
	plan = ExportSelection.plan(PackedStringArray(LINUX), true, from_zip)
	t.check_eq([plan["raw"], plan["raw_from"], plan["errors"]],
			["", BIN + "linux-x64/websocket-sidecar.zst", PackedStringArray()],
			"a release-zip install (only .zst) decompresses the sidecar at export for ship_raw_binary")
	var raw_only := PackedStringArray([BIN + "windows-x64/websocket-sidecar.exe"])
	plan = ExportSelection.plan(PackedStringArray(["windows", "x86_64"]), true, raw_only)
	t.check_eq([plan["pack"], plan["raw"], plan["missing"], plan["errors"]],
			[PackedStringArray(), BIN + "windows-x64/websocket-sidecar.exe", PackedStringArray(), PackedStringArray()],
			"a raw executable alone is enough with ship_raw_binary")
	plan = ExportSelection.plan(PackedStringArray(["windows", "x86_64"]), false, raw_only)
	t.check_eq(plan["missing"], PackedStringArray(["windows-x64"]),
			"a raw executable alone is not enough without ship_raw_binary (it is never packed)")


func _test_universal_macos() -> void:
	var plan := ExportSelection.plan(PackedStringArray(UNIVERSAL), false, _all_files(["macos-arm64", "macos-x64"]))
	t.check_eq(plan["pack"], PackedStringArray([
		BIN + "macos-arm64/websocket-sidecar.zst", BIN + "macos-arm64/websocket-sidecar.json",
		BIN + "macos-x64/websocket-sidecar.zst", BIN + "macos-x64/websocket-sidecar.json",
	]), "a universal macOS export packs both macOS sidecars")
	t.check_eq(plan["errors"], PackedStringArray(), "without an error")
	plan = ExportSelection.plan(PackedStringArray(UNIVERSAL), true, _all_files(["macos-arm64", "macos-x64"]))
	t.check_eq([plan["raw"], plan["raw_from"], plan["pack"].size()], ["", "", 4],
			"ship_raw_binary on a universal export ships no raw executable, still both compressed ones")
	t.check(plan["errors"].size() == 1 and plan["errors"][0].begins_with(
			"ship_raw_binary is refused for a universal macOS export"), "and says why: %s" % [plan["errors"]])
	plan = ExportSelection.plan(PackedStringArray(UNIVERSAL), false, _all_files(["macos-arm64"]))
	t.check_eq(plan["missing"], PackedStringArray(["macos-x64"]), "a universal export names the missing Intel sidecar")


func _test_missing() -> void:
	var plan := ExportSelection.plan(PackedStringArray(LINUX), false, PackedStringArray())
	t.check_eq(plan["missing"], PackedStringArray(["linux-x64"]), "nothing built: the platform is missing")
	t.check(plan["errors"].size() == 1 and plan["errors"][0].begins_with("no sidecar for linux-x64: expected "
			+ BIN + "linux-x64/websocket-sidecar.zst with websocket-sidecar.json."), "with a clear error: %s" % [plan])
	var no_manifest := PackedStringArray([BIN + "linux-x64/websocket-sidecar.zst"])
	t.check_eq(ExportSelection.plan(PackedStringArray(LINUX), false, no_manifest)["missing"],
			PackedStringArray(["linux-x64"]), "a .zst without its manifest is not usable")
	t.check_eq(ExportSelection.plan(PackedStringArray(["web"]), true, PackedStringArray()),
			{"pack": PackedStringArray(), "raw": "", "raw_from": "", "missing": PackedStringArray(),
			"errors": PackedStringArray()}, "the Web needs nothing and reports nothing")


static func _all_files(dirs: Array) -> PackedStringArray:
	var files := PackedStringArray()
	for dir: String in dirs:
		files.append_array(PackedStringArray(ExportSelection.files_of(dir).values()))
	return files
