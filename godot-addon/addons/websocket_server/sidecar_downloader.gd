extends Node
## Downloads pinned sidecar files into [code]bin/<platform>/[/code] and trusts
## none of them until it has checked them.
##
## Each file is fetched with an [HTTPRequest] (following redirects, as GitHub's
## release downloads need) into a temporary name in the target folder, then its
## size and SHA-256 are compared with the values pinned in
## [code]release.json[/code] ([code]release_pin.gd[/code]). Only when every file
## of the platform passed are they renamed into place; on any failure (a
## dropped connection, an HTTP error, a hash mismatch, a cancel) every
## temporary file is removed, and so is the folder if this download created it.
## Works without the editor: it needs only a SceneTree.

## Emitted while a file downloads: bytes received so far and the expected total.
signal progressed(asset: String, received: int, total: int)
## Emitted once per [method download]: [param error] is "" on success.
signal finished(error: String)

## Redirects followed per file (GitHub sends two).
const MAX_REDIRECTS: int = 8
## Longest one file may take, in seconds, before it counts as failed.
const FILE_TIMEOUT_SECONDS: float = 600.0
## Bytes hashed per read when verifying.
const HASH_CHUNK_BYTES: int = 1 << 20

var _http: HTTPRequest = null
var _base_url: String = ""
var _target_dir: String = ""
var _pending: Array[Dictionary] = []
var _fetched: Array[Dictionary] = []
var _current: Dictionary = {}
var _created_dir: bool = false


func _process(_delta: float) -> void:
	if _http != null and not _current.is_empty():
		var total := _http.get_body_size()
		progressed.emit(str(_current["asset"]), _http.get_downloaded_bytes(),
				total if total >= 0 else int(_current["size"]))


## SHA-256 of the file at [param path] as lower-case hex, read in chunks; ""
## when it cannot be read.
static func sha256_of_file(path: String) -> String:
	var f := FileAccess.open(path, FileAccess.READ)
	if f == null:
		return ""
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	while f.get_position() < f.get_length():
		ctx.update(f.get_buffer(HASH_CHUNK_BYTES))
	return ctx.finish().hex_encode()


## Says what an [enum HTTPRequest.Result] means for a download.
static func describe_result(result: int) -> String:
	match result:
		HTTPRequest.RESULT_CANT_RESOLVE:
			return "the host name could not be resolved (offline?)"
		HTTPRequest.RESULT_CANT_CONNECT:
			return "the server could not be reached (offline?)"
		HTTPRequest.RESULT_CONNECTION_ERROR:
			return "the connection was dropped before the file was complete"
		HTTPRequest.RESULT_CHUNKED_BODY_SIZE_MISMATCH:
			return "the connection ended before the file was complete"
		HTTPRequest.RESULT_TLS_HANDSHAKE_ERROR:
			return "the TLS handshake failed"
		HTTPRequest.RESULT_NO_RESPONSE:
			return "the server sent no response"
		HTTPRequest.RESULT_REDIRECT_LIMIT_REACHED:
			return "it was redirected more than %d times" % MAX_REDIRECTS
		HTTPRequest.RESULT_TIMEOUT:
			return "it took longer than %d s" % int(FILE_TIMEOUT_SECONDS)
		HTTPRequest.RESULT_DOWNLOAD_FILE_CANT_OPEN, HTTPRequest.RESULT_DOWNLOAD_FILE_WRITE_ERROR:
			return "the file could not be written to disk"
	return "the request failed (HTTPRequest result %d)" % result


## True while a download runs.
func is_busy() -> bool:
	return not _current.is_empty()


## Downloads [param files] (entries of [code]release.json[/code]:
## [code]{asset, file, size, sha256}[/code]) from [param base_url] (ending in
## "/") into the folder [param target_dir] (an absolute path, or res:// or
## user://). Emits [signal finished] when done, with "" or what went wrong.
func download(base_url: String, files: Array, target_dir: String) -> void:
	if is_busy():
		finished.emit("a download is already running")
		return
	_base_url = base_url
	_target_dir = target_dir
	_pending.clear()
	_fetched.clear()
	for file: Dictionary in files:
		_pending.append(file)
	if _pending.is_empty():
		finished.emit("there is nothing to download")
		return
	_created_dir = not DirAccess.dir_exists_absolute(_target_dir)
	var err := DirAccess.make_dir_recursive_absolute(_target_dir)
	if err != OK:
		finished.emit("cannot create %s (%s)" % [_target_dir, error_string(err)])
		return
	_next()


## Stops the running download and removes what it wrote; emits
## [signal finished] with an error saying it was cancelled.
func cancel() -> void:
	if is_busy():
		_http.cancel_request()
		_fail("the download was cancelled")


func _next() -> void:
	if _pending.is_empty():
		_install()
		return
	_current = _pending.pop_front()
	_current["temp"] = _target_dir.path_join("%s.tmp-%d" % [_current["file"], OS.get_process_id()])
	_current["url"] = _base_url + str(_current["asset"]).uri_encode()
	if _http == null:
		_http = HTTPRequest.new()
		_http.max_redirects = MAX_REDIRECTS
		_http.timeout = FILE_TIMEOUT_SECONDS
		_http.request_completed.connect(_on_request_completed)
		add_child(_http)
	_http.download_file = _current["temp"]
	var err := _http.request(_current["url"])
	if err != OK:
		_fail("cannot request %s (%s)" % [_current["url"], error_string(err)])


func _on_request_completed(result: int, code: int, _headers: PackedStringArray, _body: PackedByteArray) -> void:
	if _current.is_empty():
		return
	var url: String = _current["url"]
	if result != HTTPRequest.RESULT_SUCCESS:
		_fail("downloading %s failed: %s" % [url, describe_result(result)])
		return
	if code != 200:
		_fail("downloading %s failed: the server answered HTTP %d" % [url, code])
		return
	var temp: String = _current["temp"]
	var size := _file_size(temp)
	progressed.emit(str(_current["asset"]), size, int(_current["size"]))
	if size != int(_current["size"]):
		_fail("%s is %d bytes, but release.json pins %d: refused (the download was cut short or the file changed)"
				% [url, size, _current["size"]])
		return
	var digest := sha256_of_file(temp)
	if digest != _current["sha256"]:
		_fail(("%s has SHA-256 %s, but release.json pins %s: refused and deleted "
				+ "(the file on the server is not the one this addon was released with)") % [
				url, digest, _current["sha256"]])
		return
	_fetched.append(_current)
	_current = {}
	_next()


# Every file passed: move them all into place.
func _install() -> void:
	for file: Dictionary in _fetched:
		var target := _target_dir.path_join(str(file["file"]))
		if FileAccess.file_exists(target):
			DirAccess.remove_absolute(target)
		var err := DirAccess.rename_absolute(str(file["temp"]), target)
		if err != OK:
			_fail("cannot rename %s to %s (%s)" % [file["temp"], target, error_string(err)])
			return
		file.erase("temp")
	_fetched.clear()
	finished.emit("")


func _fail(error: String) -> void:
	var leftovers: Array[Dictionary] = _fetched.duplicate()
	if not _current.is_empty():
		leftovers.append(_current)
	for file: Dictionary in leftovers:
		if file.has("temp") and FileAccess.file_exists(str(file["temp"])):
			DirAccess.remove_absolute(str(file["temp"]))
	_current = {}
	_pending.clear()
	_fetched.clear()
	if _created_dir and DirAccess.get_files_at(_target_dir).is_empty():
		DirAccess.remove_absolute(_target_dir)
	finished.emit(error)


static func _file_size(path: String) -> int:
	var f := FileAccess.open(path, FileAccess.READ)
	return -1 if f == null else f.get_length()
