/**
 * Reads back what injection produced, without running the binary: the
 * NODE_SEA_BLOB resource (an ELF note, a PE RT_RCDATA resource, or a Mach-O
 * section in segment NODE_SEA) and the state of the SEA fuse. Used by
 * inject.ts to check its own output and by the packaging tests.
 *
 * Usage: tsx packaging/inspect.ts <binary>...
 */
import { readFileSync } from 'node:fs';
import { MACHO_SEGMENT, SEA_FUSE, SEA_RESOURCE, isMain } from './config.js';
import { parseMachO } from './macho-sign.js';

export type ExecutableFormat = 'elf' | 'pe' | 'macho';

export function detectFormat(buf: Buffer): ExecutableFormat | undefined {
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (buf.length >= 2 && buf.toString('latin1', 0, 2) === 'MZ') return 'pe';
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xfeedfacf) return 'macho';
  return undefined;
}

/** '1' once postject flipped the fuse, '0' when not injected, undefined when the fuse is missing. */
export function seaFuseState(buf: Buffer): '0' | '1' | undefined {
  const at = buf.indexOf(`${SEA_FUSE}:`);
  if (at === -1) return undefined;
  const value = String.fromCharCode(buf[at + SEA_FUSE.length + 1]!);
  return value === '0' || value === '1' ? value : undefined;
}

export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

export interface PeInfo {
  machine: number;
  /** 0x20b for PE32+ (64-bit). */
  optionalMagic: number;
  subsystem: number;
  sections: PeSection[];
  /** Data directory entries: [rva, size]; 2 = resources, 4 = Authenticode certificates. */
  directories: [number, number][];
}

export function parsePE(buf: Buffer): PeInfo {
  if (buf.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file: no MZ header');
  const pe = buf.readUInt32LE(0x3c);
  if (pe + 24 > buf.length || buf.readUInt32LE(pe) !== 0x00004550) throw new Error(`no PE signature at e_lfanew ${pe}`);
  const coff = pe + 4;
  const nsections = buf.readUInt16LE(coff + 2);
  const optSize = buf.readUInt16LE(coff + 16);
  const opt = coff + 20;
  const optionalMagic = buf.readUInt16LE(opt);
  if (optionalMagic !== 0x20b) throw new Error(`optional header magic 0x${optionalMagic.toString(16)} is not PE32+`);
  const ndirs = buf.readUInt32LE(opt + 108);
  const directories: [number, number][] = [];
  for (let i = 0; i < ndirs; i++) directories.push([buf.readUInt32LE(opt + 112 + i * 8), buf.readUInt32LE(opt + 116 + i * 8)]);
  const sections: PeSection[] = [];
  for (let i = 0; i < nsections; i++) {
    const s = opt + optSize + i * 40;
    sections.push({
      name: buf.toString('latin1', s, s + 8).replace(/\0+$/, ''),
      virtualSize: buf.readUInt32LE(s + 8),
      virtualAddress: buf.readUInt32LE(s + 12),
      rawSize: buf.readUInt32LE(s + 16),
      rawOffset: buf.readUInt32LE(s + 20),
    });
  }
  return { machine: buf.readUInt16LE(coff), optionalMagic, subsystem: buf.readUInt16LE(opt + 68), sections, directories };
}

function peResource(buf: Buffer, name: string): Buffer | undefined {
  const info = parsePE(buf);
  const [rsrcRva] = info.directories[2] ?? [0, 0];
  if (!rsrcRva) return undefined;
  const toOffset = (rva: number): number => {
    const s = info.sections.find((sec) => rva >= sec.virtualAddress && rva < sec.virtualAddress + Math.max(sec.virtualSize, sec.rawSize));
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} lies in no section`);
    return rva - s.virtualAddress + s.rawOffset;
  };
  const root = toOffset(rsrcRva);
  const entries = (dir: number): { id: number | string; target: number; isDir: boolean }[] => {
    const count = buf.readUInt16LE(dir + 12) + buf.readUInt16LE(dir + 14);
    return Array.from({ length: count }, (_, i) => {
      const e = dir + 16 + i * 8;
      const nameField = buf.readUInt32LE(e);
      const dataField = buf.readUInt32LE(e + 4);
      let id: number | string = nameField;
      if (nameField & 0x80000000) {
        const str = root + (nameField & 0x7fffffff);
        id = buf.toString('utf16le', str + 2, str + 2 + buf.readUInt16LE(str) * 2);
      }
      return { id, target: root + (dataField & 0x7fffffff), isDir: (dataField & 0x80000000) !== 0 };
    });
  };
  const RT_RCDATA = 10;
  const type = entries(root).find((e) => e.id === RT_RCDATA && e.isDir);
  const named = type && entries(type.target).find((e) => e.id === name && e.isDir);
  const language = named && entries(named.target)[0];
  if (!language || language.isDir) return undefined;
  const dataRva = buf.readUInt32LE(language.target);
  const size = buf.readUInt32LE(language.target + 4);
  const start = toOffset(dataRva);
  return buf.subarray(start, start + size);
}

function elfNote(buf: Buffer, name: string): Buffer | undefined {
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only 64-bit little-endian ELF is supported');
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const PT_NOTE = 4;
  const align4 = (n: number): number => (n + 3) & ~3;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) !== PT_NOTE) continue;
    const offset = Number(buf.readBigUInt64LE(ph + 8));
    const end = offset + Number(buf.readBigUInt64LE(ph + 32));
    for (let p = offset; p + 12 <= end; ) {
      const namesz = buf.readUInt32LE(p);
      const descsz = buf.readUInt32LE(p + 4);
      const noteName = buf.toString('latin1', p + 12, p + 12 + Math.max(0, namesz - 1));
      const desc = p + 12 + align4(namesz);
      if (noteName === name) return buf.subarray(desc, desc + descsz);
      p = desc + align4(descsz);
    }
  }
  return undefined;
}

function machoSection(buf: Buffer, segment: string, section: string): Buffer | undefined {
  const found = parseMachO(buf).segments.find((s) => s.name === segment)?.sections.find((s) => s.name === section);
  return found && buf.subarray(found.offset, found.offset + found.size);
}

/** The injected SEA blob, or undefined when the binary carries none. */
export function findSeaBlob(buf: Buffer): Buffer | undefined {
  switch (detectFormat(buf)) {
    case 'elf':
      return elfNote(buf, SEA_RESOURCE);
    case 'pe':
      return peResource(buf, SEA_RESOURCE);
    case 'macho':
      return machoSection(buf, MACHO_SEGMENT, `__${SEA_RESOURCE}`);
    default:
      throw new Error('not an ELF, PE or 64-bit Mach-O executable');
  }
}

if (isMain(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    const buf = readFileSync(file);
    const blob = findSeaBlob(buf);
    console.log(`${file}: ${detectFormat(buf)}, fuse ${seaFuseState(buf) ?? 'missing'}, ${blob ? `${SEA_RESOURCE} of ${blob.length} bytes` : `no ${SEA_RESOURCE}`}`);
  }
}
