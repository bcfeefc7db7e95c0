/**
 * The "seed" bench target: the GDExtension whose API the addon keeps
 * (clbhundley/websocket-server-gdextension), built outside this repository and named by the
 * environment variable SEED_GDEXT (its `.gdextension` file, or the folder holding it).
 *
 * The seed registers a class called WebSocketServer, as the addon's `class_name` does, so it
 * runs in its own copy of bench/godot without the addon, assembled in a temporary folder.
 */
import { createServer, type AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';

/** What the bench says when SEED_GDEXT is unset or points at nothing. */
export const SEED_SKIPPED = 'seed target skipped: set SEED_GDEXT=<path of the seed\'s .gdextension file or its folder> to add it';

export interface SeedExtension {
  /** absolute path of the `.gdextension` file */
  file: string;
  /** the folder on disk that the project must show at `mountPath` */
  folder: string;
  /** where the `.gdextension` file's `res://` library paths expect that folder, e.g. `res://addons/websocket_server` */
  mountPath: string;
}

/**
 * Finds the `.gdextension` file SEED_GDEXT names and where its library paths want it mounted.
 * Returns undefined when the path is unset or does not exist; throws when it exists but is not
 * a usable extension, so a wrong path is never silently skipped.
 */
export function resolveSeedExtension(pathOrFolder: string | undefined, libraryKey = 'linux.debug.x86_64'): SeedExtension | undefined {
  if (pathOrFolder === undefined || pathOrFolder === '' || !existsSync(pathOrFolder)) return undefined;
  const given = resolve(pathOrFolder);
  let file = given;
  if (statSync(given).isDirectory()) {
    const found = readdirSync(given).filter((name) => name.endsWith('.gdextension'));
    if (found.length !== 1) throw new Error(`SEED_GDEXT: expected one .gdextension file in ${given}, found ${found.length}`);
    file = join(given, found[0]!);
  }
  const text = readFileSync(file, 'utf8');
  const line = new RegExp(`^\\s*${libraryKey.replace(/\./g, '\\.')}\\s*=\\s*"(res://[^"]+)"`, 'm').exec(text);
  if (line === null) throw new Error(`SEED_GDEXT: ${file} names no library for ${libraryKey}`);
  const library = line[1]!;
  // The library path is the mount path followed by the library's place below the .gdextension's folder.
  const folder = dirname(file);
  const parts = library.slice('res://'.length).split('/');
  for (let i = 0; i < parts.length; i++) {
    if (existsSync(join(folder, ...parts.slice(i)))) return { file, folder, mountPath: `res://${parts.slice(0, i).join('/')}`.replace(/\/$/, '') };
  }
  throw new Error(`SEED_GDEXT: the library ${library} named by ${file} is not below ${folder}`);
}

/**
 * Builds the seed's bench project in a fresh temporary folder: bench/godot's files, the extension
 * linked where its library paths expect it, and the two caches an export-template engine needs
 * (it loads only the extensions `.godot/extension_list.cfg` lists, and reads class names only
 * from the class cache). Returns the project folder.
 */
export function prepareSeedProject(benchGodotDir: string, seed: SeedExtension): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-seed-project-'));
  for (const f of ['project.godot', 'main.tscn', 'main.gd', 'native_server.gd']) cpSync(join(benchGodotDir, f), join(dir, f));
  if (seed.mountPath === 'res:/' || seed.mountPath === 'res://') throw new Error('SEED_GDEXT: the extension would have to be the project root');
  const mount = join(dir, ...seed.mountPath.slice('res://'.length).split('/'));
  mkdirSync(dirname(mount), { recursive: true });
  symlinkSync(seed.folder, mount);
  const relative = seed.file.slice(seed.folder.length + 1).split(sep).join('/');
  mkdirSync(join(dir, '.godot'), { recursive: true });
  writeFileSync(join(dir, '.godot', 'extension_list.cfg'), `${seed.mountPath}/${relative}\n`);
  writeFileSync(join(dir, '.godot', 'global_script_class_cache.cfg'), 'list=[]\n');
  return dir;
}

/** A loopback port that was free a moment ago (the seed cannot listen on port 0 and report the port it got). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}
