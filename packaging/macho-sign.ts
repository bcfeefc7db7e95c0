/**
 * A small ad-hoc code signer for thin 64-bit Mach-O executables, standing in
 * for `codesign --remove-signature` and `codesign --sign -`, which do not exist
 * off macOS. macOS on Apple silicon refuses to run unsigned code, and injecting
 * the SEA blob invalidates Apple's signature on the official Node binaries.
 *
 * What it writes is what `codesign -s -` writes for a plain executable: an
 * embedded-signature SuperBlob at the end of __LINKEDIT, pointed at by
 * LC_CODE_SIGNATURE, holding a CodeDirectory (SHA-256 of every 4 KiB page up to
 * the signature, identifier, executable-segment fields, flags = ad-hoc), an
 * empty requirements set and an empty CMS wrapper. No hardened runtime, so no
 * entitlements are needed for V8's JIT.
 *
 * Usage: tsx packaging/macho-sign.ts sign|unsign|verify <file> [identifier]
 * Layouts follow <mach-o/loader.h> and xnu's osfmk/kern/cs_blobs.h.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMain } from './config.js';

const MH_MAGIC_64 = 0xfeedfacf;
const FAT_MAGIC = 0xcafebabe;
const MH_EXECUTE = 0x2;
const MACH_HEADER_64_SIZE = 32;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const LINKEDIT_DATA_COMMAND_SIZE = 16;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_REQUIREMENTS = 0xfade0c01;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_REQUIREMENTS = 2;
const CSSLOT_SIGNATURESLOT = 0x10000;
const CSSLOT_ALTERNATE_CODEDIRECTORIES = 0x1000;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
/** CodeDirectory version with the executable-segment fields (0x20400). */
const CD_VERSION = 0x20400;
const CD_HEADER_SIZE = 88;
const HASH_SIZE = 32;
export const PAGE_SIZE_LOG2 = 12;
export const PAGE_SIZE = 1 << PAGE_SIZE_LOG2;
/** VM page size used to round __LINKEDIT's vmsize (16 KiB covers arm64 and x86-64). */
const VM_PAGE = 0x4000;

export class MachOError extends Error {
  override name = 'MachOError';
}

export interface Segment {
  name: string;
  /** Offset of the load command in the file. */
  commandOffset: number;
  vmaddr: bigint;
  vmsize: bigint;
  fileoff: number;
  filesize: number;
  sections: { name: string; offset: number; size: number }[];
}

export interface MachO {
  cputype: number;
  filetype: number;
  ncmds: number;
  sizeofcmds: number;
  segments: Segment[];
  /** The LC_CODE_SIGNATURE command, when present. */
  codeSignature?: { commandOffset: number; dataoff: number; datasize: number };
  /** Lowest file offset of any section's data: load commands must end before it. */
  firstSectionOffset: number;
}

function cString(buf: Buffer, offset: number, max: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end === -1 || end > offset + max ? offset + max : end);
}

/** Parses the header and load commands of a thin little-endian 64-bit Mach-O. */
export function parseMachO(buf: Buffer): MachO {
  if (buf.length < MACH_HEADER_64_SIZE) throw new MachOError(`file is ${buf.length} bytes, too short for a Mach-O header`);
  const magic = buf.readUInt32LE(0);
  if (buf.readUInt32BE(0) === FAT_MAGIC) {
    throw new MachOError('this is a universal (fat) Mach-O; sign each architecture\'s thin binary instead');
  }
  if (magic !== MH_MAGIC_64) {
    throw new MachOError(`not a 64-bit little-endian Mach-O (magic 0x${magic.toString(16)}, expected 0x${MH_MAGIC_64.toString(16)})`);
  }
  const macho: MachO = {
    cputype: buf.readUInt32LE(4),
    filetype: buf.readUInt32LE(12),
    ncmds: buf.readUInt32LE(16),
    sizeofcmds: buf.readUInt32LE(20),
    segments: [],
    firstSectionOffset: buf.length,
  };
  if (MACH_HEADER_64_SIZE + macho.sizeofcmds > buf.length) throw new MachOError('load commands run past the end of the file');
  let off = MACH_HEADER_64_SIZE;
  for (let i = 0; i < macho.ncmds; i++) {
    if (off + 8 > MACH_HEADER_64_SIZE + macho.sizeofcmds) throw new MachOError(`load command ${i} starts outside sizeofcmds`);
    const cmd = buf.readUInt32LE(off);
    const cmdsize = buf.readUInt32LE(off + 4);
    if (cmdsize < 8 || off + cmdsize > MACH_HEADER_64_SIZE + macho.sizeofcmds) {
      throw new MachOError(`load command ${i} (0x${cmd.toString(16)}) has an impossible size ${cmdsize}`);
    }
    if (cmd === LC_SEGMENT_64) {
      const seg: Segment = {
        name: cString(buf, off + 8, 16),
        commandOffset: off,
        vmaddr: buf.readBigUInt64LE(off + 24),
        vmsize: buf.readBigUInt64LE(off + 32),
        fileoff: Number(buf.readBigUInt64LE(off + 40)),
        filesize: Number(buf.readBigUInt64LE(off + 48)),
        sections: [],
      };
      const nsects = buf.readUInt32LE(off + 64);
      for (let s = 0; s < nsects; s++) {
        const so = off + 72 + s * 80;
        const section = { name: cString(buf, so, 16), offset: buf.readUInt32LE(so + 48), size: Number(buf.readBigUInt64LE(so + 40)) };
        seg.sections.push(section);
        // Zero-fill sections (offset 0) have no file data.
        if (section.offset > 0 && section.offset < macho.firstSectionOffset) macho.firstSectionOffset = section.offset;
      }
      macho.segments.push(seg);
    } else if (cmd === LC_CODE_SIGNATURE) {
      macho.codeSignature = { commandOffset: off, dataoff: buf.readUInt32LE(off + 8), datasize: buf.readUInt32LE(off + 12) };
    }
    off += cmdsize;
  }
  return macho;
}

function linkedit(macho: MachO): Segment {
  const seg = macho.segments.find((s) => s.name === '__LINKEDIT');
  if (!seg) throw new MachOError('no __LINKEDIT segment: not a linked executable');
  return seg;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function setLinkeditFileSize(buf: Buffer, seg: Segment, filesize: number): void {
  buf.writeBigUInt64LE(BigInt(filesize), seg.commandOffset + 48);
  buf.writeBigUInt64LE(BigInt(roundUp(filesize, VM_PAGE)), seg.commandOffset + 32);
}

/**
 * Removes the code signature (like `codesign --remove-signature`): drops the
 * LC_CODE_SIGNATURE command, cuts the signature off the end of the file and
 * shrinks __LINKEDIT. Returns the input unchanged when it is unsigned.
 */
export function removeSignature(input: Buffer): Buffer {
  const macho = parseMachO(input);
  const sig = macho.codeSignature;
  if (!sig) return input;
  const seg = linkedit(macho);
  if (sig.dataoff + sig.datasize !== input.length || sig.dataoff < seg.fileoff) {
    throw new MachOError(
      `the signature (bytes ${sig.dataoff}..${sig.dataoff + sig.datasize}) is not the last thing in __LINKEDIT at the end of the ` +
        `${input.length}-byte file; this signer only handles signatures written by the Apple toolchain`,
    );
  }
  const out = Buffer.from(input.subarray(0, sig.dataoff));
  const cmdEnd = MACH_HEADER_64_SIZE + macho.sizeofcmds;
  // Close the gap the command leaves and zero the freed tail of the command area.
  out.copy(out, sig.commandOffset, sig.commandOffset + LINKEDIT_DATA_COMMAND_SIZE, cmdEnd);
  out.fill(0, cmdEnd - LINKEDIT_DATA_COMMAND_SIZE, cmdEnd);
  out.writeUInt32LE(macho.ncmds - 1, 16);
  out.writeUInt32LE(macho.sizeofcmds - LINKEDIT_DATA_COMMAND_SIZE, 20);
  setLinkeditFileSize(out, seg, sig.dataoff - seg.fileoff);
  return out;
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function emptyRequirements(): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(CSMAGIC_REQUIREMENTS, 0);
  b.writeUInt32BE(12, 4);
  b.writeUInt32BE(0, 8);
  return b;
}

function emptyCmsWrapper(): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(CSMAGIC_BLOBWRAPPER, 0);
  b.writeUInt32BE(8, 4);
  return b;
}

function signatureSize(codeLimit: number, identifier: string): number {
  const nCodeSlots = Math.ceil(codeLimit / PAGE_SIZE);
  const cdLength = CD_HEADER_SIZE + Buffer.byteLength(identifier) + 1 + (2 + nCodeSlots) * HASH_SIZE;
  return roundUp(12 + 3 * 8 + cdLength + 12 + 8, 16);
}

/**
 * Signs ad-hoc (like `codesign --force --sign - --identifier <identifier>`),
 * replacing any existing signature. The signature goes at the end of
 * __LINKEDIT, which grows to hold it; an LC_CODE_SIGNATURE command is added
 * when missing, which needs 16 bytes of free space after the load commands.
 */
export function signAdHoc(input: Buffer, identifier: string): Buffer {
  if (identifier.length === 0 || identifier.includes('\0')) throw new MachOError('the identifier must be a non-empty string without NUL');
  let buf = removeSignature(input);
  let macho = parseMachO(buf);
  const seg = linkedit(macho);
  if (seg.fileoff + seg.filesize !== buf.length) {
    throw new MachOError(
      `__LINKEDIT ends at byte ${seg.fileoff + seg.filesize} but the file has ${buf.length} bytes; ` +
        'data after __LINKEDIT would be outside the signature and macOS would reject the binary',
    );
  }
  const later = macho.segments.filter((s) => s !== seg && s.vmaddr >= seg.vmaddr && s.name !== '__PAGEZERO');
  if (later.length > 0) throw new MachOError(`segment ${later[0]!.name} lies after __LINKEDIT in memory, so __LINKEDIT cannot grow`);

  // Add the load command.
  const cmdEnd = MACH_HEADER_64_SIZE + macho.sizeofcmds;
  if (cmdEnd + LINKEDIT_DATA_COMMAND_SIZE > macho.firstSectionOffset) {
    throw new MachOError(
      `no room for LC_CODE_SIGNATURE: load commands end at ${cmdEnd} and section data starts at ${macho.firstSectionOffset}; ` +
        'relink with -headerpad or keep the original LC_CODE_SIGNATURE',
    );
  }
  if (buf.subarray(cmdEnd, cmdEnd + LINKEDIT_DATA_COMMAND_SIZE).some((b) => b !== 0)) {
    throw new MachOError(`the bytes after the load commands (offset ${cmdEnd}) are not free padding; cannot add LC_CODE_SIGNATURE`);
  }
  const dataoff = roundUp(buf.length, 16);
  const datasize = signatureSize(dataoff, identifier);
  const out = Buffer.alloc(dataoff + datasize);
  buf.copy(out);
  buf = out;
  buf.writeUInt32LE(LC_CODE_SIGNATURE, cmdEnd);
  buf.writeUInt32LE(LINKEDIT_DATA_COMMAND_SIZE, cmdEnd + 4);
  buf.writeUInt32LE(dataoff, cmdEnd + 8);
  buf.writeUInt32LE(datasize, cmdEnd + 12);
  buf.writeUInt32LE(macho.ncmds + 1, 16);
  buf.writeUInt32LE(macho.sizeofcmds + LINKEDIT_DATA_COMMAND_SIZE, 20);
  setLinkeditFileSize(buf, seg, dataoff + datasize - seg.fileoff);
  macho = parseMachO(buf);

  // Build the signature over everything before it (headers already final).
  const text = macho.segments.find((s) => s.name === '__TEXT');
  if (!text) throw new MachOError('no __TEXT segment: not a linked executable');
  const codeLimit = dataoff;
  const nCodeSlots = Math.ceil(codeLimit / PAGE_SIZE);
  const nSpecialSlots = 2;
  const ident = Buffer.from(`${identifier}\0`, 'utf8');
  const requirements = emptyRequirements();
  const hashOffset = CD_HEADER_SIZE + ident.length + nSpecialSlots * HASH_SIZE;
  const cd = Buffer.alloc(hashOffset + nCodeSlots * HASH_SIZE);
  cd.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  cd.writeUInt32BE(cd.length, 4);
  cd.writeUInt32BE(CD_VERSION, 8);
  cd.writeUInt32BE(CS_ADHOC, 12);
  cd.writeUInt32BE(hashOffset, 16);
  cd.writeUInt32BE(CD_HEADER_SIZE, 20); // identOffset
  cd.writeUInt32BE(nSpecialSlots, 24);
  cd.writeUInt32BE(nCodeSlots, 28);
  cd.writeUInt32BE(codeLimit, 32);
  cd.writeUInt8(HASH_SIZE, 36);
  cd.writeUInt8(CS_HASHTYPE_SHA256, 37);
  cd.writeUInt8(0, 38); // platform
  cd.writeUInt8(PAGE_SIZE_LOG2, 39);
  // 40 spare2, 44 scatterOffset, 48 teamOffset, 52 spare3, 56 codeLimit64: all zero.
  cd.writeBigUInt64BE(BigInt(text.fileoff), 64); // execSegBase
  cd.writeBigUInt64BE(BigInt(text.filesize), 72); // execSegLimit
  cd.writeBigUInt64BE(BigInt(macho.filetype === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0), 80);
  ident.copy(cd, CD_HEADER_SIZE);
  // Special slot -1 (Info.plist) stays zero; slot -2 holds the requirements' hash.
  sha256(requirements).copy(cd, hashOffset - CSSLOT_REQUIREMENTS * HASH_SIZE);
  for (let page = 0; page < nCodeSlots; page++) {
    const start = page * PAGE_SIZE;
    sha256(buf.subarray(start, Math.min(start + PAGE_SIZE, codeLimit))).copy(cd, hashOffset + page * HASH_SIZE);
  }

  const blobs: [number, Buffer][] = [
    [CSSLOT_CODEDIRECTORY, cd],
    [CSSLOT_REQUIREMENTS, requirements],
    [CSSLOT_SIGNATURESLOT, emptyCmsWrapper()],
  ];
  const headerSize = 12 + blobs.length * 8;
  const superLength = headerSize + blobs.reduce((n, [, b]) => n + b.length, 0);
  if (superLength > datasize) throw new MachOError(`internal error: signature of ${superLength} bytes exceeds the reserved ${datasize}`);
  let p = dataoff;
  buf.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, p);
  buf.writeUInt32BE(superLength, p + 4);
  buf.writeUInt32BE(blobs.length, p + 8);
  let blobOffset = headerSize;
  blobs.forEach(([slot, blob], i) => {
    buf.writeUInt32BE(slot, p + 12 + i * 8);
    buf.writeUInt32BE(blobOffset, p + 16 + i * 8);
    blob.copy(buf, p + blobOffset);
    blobOffset += blob.length;
  });
  return buf;
}

export interface SignatureReport {
  identifier: string;
  flags: number;
  codeLimit: number;
  pages: number;
  execSegBase: number;
  execSegLimit: number;
  execSegFlags: number;
  /** Problems found; empty when the signature is valid. */
  errors: string[];
}

/**
 * Parses the embedded signature back and checks it the way the kernel does:
 * every page hash, the requirements hash, and that the signature is the end
 * of __LINKEDIT and of the file.
 * @throws MachOError when there is no signature to check at all
 */
export function verifySignature(buf: Buffer): SignatureReport {
  const macho = parseMachO(buf);
  const sig = macho.codeSignature;
  if (!sig) throw new MachOError('the binary has no LC_CODE_SIGNATURE: it is unsigned (sign it with packaging/macho-sign.ts)');
  const errors: string[] = [];
  const seg = linkedit(macho);
  if (sig.dataoff + sig.datasize !== buf.length) errors.push(`signature ends at ${sig.dataoff + sig.datasize}, file at ${buf.length}`);
  if (seg.fileoff + seg.filesize !== sig.dataoff + sig.datasize) errors.push('__LINKEDIT does not end where the signature ends');
  if (BigInt(seg.filesize) > seg.vmsize) errors.push('__LINKEDIT vmsize is smaller than its filesize');
  const sb = buf.subarray(sig.dataoff, sig.dataoff + sig.datasize);
  if (sb.length < 12 || sb.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) {
    throw new MachOError('LC_CODE_SIGNATURE does not point at an embedded-signature SuperBlob');
  }
  const count = sb.readUInt32BE(8);
  const slots = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) {
    const type = sb.readUInt32BE(12 + i * 8);
    const offset = sb.readUInt32BE(16 + i * 8);
    const length = sb.readUInt32BE(offset + 4);
    slots.set(type, sb.subarray(offset, offset + length));
  }
  // Apple's own signatures may carry a SHA-1 CodeDirectory in slot 0 and the
  // SHA-256 one in an alternate slot (0x1000 + n); check the SHA-256 one.
  const directories = [...slots.entries()]
    .filter(([type, blob]) => (type === CSSLOT_CODEDIRECTORY || (type & 0xfffff000) === CSSLOT_ALTERNATE_CODEDIRECTORIES) && blob.readUInt32BE(0) === CSMAGIC_CODEDIRECTORY)
    .map(([, blob]) => blob);
  const cd = directories.find((blob) => blob.readUInt8(37) === CS_HASHTYPE_SHA256) ?? directories[0];
  if (!cd) throw new MachOError('the signature has no CodeDirectory');
  const hashOffset = cd.readUInt32BE(16);
  const identOffset = cd.readUInt32BE(20);
  const nSpecialSlots = cd.readUInt32BE(24);
  const nCodeSlots = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const hashSize = cd.readUInt8(36);
  const hashType = cd.readUInt8(37);
  const pageLog2 = cd.readUInt8(39);
  const report: SignatureReport = {
    identifier: cString(cd, identOffset, cd.length - identOffset),
    flags: cd.readUInt32BE(12),
    codeLimit,
    pages: nCodeSlots,
    execSegBase: cd.readUInt32BE(8) >= CD_VERSION ? Number(cd.readBigUInt64BE(64)) : 0,
    execSegLimit: cd.readUInt32BE(8) >= CD_VERSION ? Number(cd.readBigUInt64BE(72)) : 0,
    execSegFlags: cd.readUInt32BE(8) >= CD_VERSION ? Number(cd.readBigUInt64BE(80)) : 0,
    errors,
  };
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== HASH_SIZE) {
    errors.push(`hash type ${hashType}/${hashSize} bytes is not SHA-256; only SHA-256 is checked`);
    return report;
  }
  if (codeLimit !== sig.dataoff) errors.push(`codeLimit ${codeLimit} is not the signature offset ${sig.dataoff}`);
  const pageSize = 1 << pageLog2;
  if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) errors.push(`${nCodeSlots} code slots for ${codeLimit} bytes of ${pageSize}-byte pages`);
  let bad = 0;
  for (let page = 0; page < nCodeSlots; page++) {
    const start = page * pageSize;
    const expected = cd.subarray(hashOffset + page * hashSize, hashOffset + (page + 1) * hashSize);
    if (!sha256(buf.subarray(start, Math.min(start + pageSize, codeLimit))).equals(expected)) {
      if (bad++ < 5) errors.push(`page ${page} (bytes ${start}..${start + pageSize}) does not match its hash`);
    }
  }
  if (bad > 5) errors.push(`... ${bad} pages in all do not match`);
  const requirements = slots.get(CSSLOT_REQUIREMENTS);
  if (requirements && nSpecialSlots >= CSSLOT_REQUIREMENTS) {
    const expected = cd.subarray(hashOffset - CSSLOT_REQUIREMENTS * hashSize, hashOffset - (CSSLOT_REQUIREMENTS - 1) * hashSize);
    if (!sha256(requirements).equals(expected)) errors.push('the requirements blob does not match special slot -2');
  }
  const text = macho.segments.find((s) => s.name === '__TEXT');
  if (text && (report.execSegBase !== text.fileoff || report.execSegLimit !== text.filesize)) {
    errors.push('the executable-segment fields do not describe __TEXT');
  }
  return report;
}

function main(argv: string[]): void {
  const [command, file, identifier] = argv;
  if (!file || !['sign', 'unsign', 'verify'].includes(command ?? '')) {
    console.error('usage: tsx packaging/macho-sign.ts sign|unsign|verify <mach-o file> [identifier]');
    process.exit(2);
  }
  const input = readFileSync(file);
  if (command === 'verify') {
    const report = verifySignature(input);
    if (report.errors.length > 0) {
      console.error(`${file}: signature INVALID:\n  ${report.errors.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`${file}: signature valid (${report.flags & 0x2 ? "ad-hoc" : "flags 0x" + report.flags.toString(16)}, identifier ${report.identifier}, ${report.pages} page hashes checked)`);
    return;
  }
  const output = command === 'sign' ? signAdHoc(input, identifier ?? basename(file)) : removeSignature(input);
  writeFileSync(file, output);
  console.log(`${file}: ${command === 'sign' ? 'signed ad-hoc' : 'signature removed'} (${output.length} bytes)`);
}

if (isMain(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof MachOError ? `macho-sign: ${error.message}` : error);
    process.exit(1);
  }
}
