/**
 * The ad-hoc Mach-O signer against a small synthetic executable, so it is
 * tested without downloading Node; the real macOS binaries are checked in
 * inject.test.ts when they have been built.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MachOError, PAGE_SIZE, parseMachO, removeSignature, signAdHoc, verifySignature } from '../../packaging/macho-sign.js';

const TEXT_SIZE = 0x2000;
const LINKEDIT_SIZE = 0x1234;

/** header + __PAGEZERO + __TEXT (one __text section at 0x1000) + __LINKEDIT; deterministic filler bytes. */
function syntheticMachO(options: { firstSectionOffset?: number; trailingBytes?: number } = {}): Buffer {
  const firstSection = options.firstSectionOffset ?? 0x1000;
  const file = Buffer.alloc(TEXT_SIZE + LINKEDIT_SIZE + (options.trailingBytes ?? 0));
  for (let i = 0; i < file.length; i++) file[i] = (i * 131 + 7) & 0xff;
  file.fill(0, 0, firstSection);
  const segment = (off: number, name: string, vmaddr: bigint, vmsize: bigint, fileoff: number, filesize: number, nsects: number): number => {
    file.writeUInt32LE(0x19, off);
    file.writeUInt32LE(72 + nsects * 80, off + 4);
    file.write(name, off + 8, 'latin1');
    file.writeBigUInt64LE(vmaddr, off + 24);
    file.writeBigUInt64LE(vmsize, off + 32);
    file.writeBigUInt64LE(BigInt(fileoff), off + 40);
    file.writeBigUInt64LE(BigInt(filesize), off + 48);
    file.writeUInt32LE(nsects, off + 64);
    return off + 72;
  };
  let off = 32;
  off = segment(off, '__PAGEZERO', 0n, 0x100000000n, 0, 0, 0);
  off = segment(off, '__TEXT', 0x100000000n, BigInt(TEXT_SIZE), 0, TEXT_SIZE, 1);
  file.write('__text', off, 'latin1');
  file.write('__TEXT', off + 16, 'latin1');
  file.writeBigUInt64LE(0x100000000n + BigInt(firstSection), off + 32);
  file.writeBigUInt64LE(BigInt(TEXT_SIZE - firstSection), off + 40);
  file.writeUInt32LE(firstSection, off + 48);
  off += 80;
  off = segment(off, '__LINKEDIT', 0x100000000n + BigInt(TEXT_SIZE), 0x4000n, TEXT_SIZE, LINKEDIT_SIZE, 0);
  file.writeUInt32LE(0xfeedfacf, 0);
  file.writeUInt32LE(0x0100000c, 4); // arm64
  file.writeUInt32LE(2, 12); // MH_EXECUTE
  file.writeUInt32LE(3, 16);
  file.writeUInt32LE(off - 32, 20);
  return file;
}

/** Reads the CodeDirectory's page hashes with no help from the signer's own verifier. */
function pageHashes(signed: Buffer): { codeLimit: number; hashes: Buffer[]; identifier: string; flags: number } {
  const { codeSignature } = parseMachO(signed);
  const sb = signed.subarray(codeSignature!.dataoff);
  expect(sb.readUInt32BE(0)).toBe(0xfade0cc0);
  expect(sb.readUInt32BE(12)).toBe(0); // slot 0: CodeDirectory
  const cd = sb.subarray(sb.readUInt32BE(16));
  expect(cd.readUInt32BE(0)).toBe(0xfade0c02);
  const hashOffset = cd.readUInt32BE(16);
  const identOffset = cd.readUInt32BE(20);
  const hashes = Array.from({ length: cd.readUInt32BE(28) }, (_, i) => cd.subarray(hashOffset + i * 32, hashOffset + (i + 1) * 32));
  return {
    codeLimit: cd.readUInt32BE(32),
    hashes,
    identifier: cd.toString('latin1', identOffset, cd.indexOf(0, identOffset)),
    flags: cd.readUInt32BE(12),
  };
}

describe('macho-sign', () => {
  it('parses the synthetic executable', () => {
    const macho = parseMachO(syntheticMachO());
    expect(macho.segments.map((s) => s.name)).toEqual(['__PAGEZERO', '__TEXT', '__LINKEDIT']);
    expect(macho.firstSectionOffset).toBe(0x1000);
    expect(macho.codeSignature).toBeUndefined();
  });

  it('signs ad-hoc with a SHA-256 hash of every 4 KiB page up to the signature', () => {
    const signed = signAdHoc(syntheticMachO(), 'com.example.test');
    const macho = parseMachO(signed);
    const sig = macho.codeSignature!;
    expect(sig.dataoff).toBe(TEXT_SIZE + LINKEDIT_SIZE + 12); // rounded up to 16
    expect(sig.dataoff + sig.datasize).toBe(signed.length);
    const linkedit = macho.segments.find((s) => s.name === '__LINKEDIT')!;
    expect(linkedit.fileoff + linkedit.filesize).toBe(signed.length);
    expect(Number(linkedit.vmsize)).toBeGreaterThanOrEqual(linkedit.filesize);

    const { codeLimit, hashes, identifier, flags } = pageHashes(signed);
    expect(identifier).toBe('com.example.test');
    expect(flags).toBe(0x2); // CS_ADHOC, no hardened runtime
    expect(codeLimit).toBe(sig.dataoff);
    expect(hashes.length).toBe(Math.ceil(codeLimit / PAGE_SIZE));
    hashes.forEach((hash, page) => {
      const data = signed.subarray(page * PAGE_SIZE, Math.min((page + 1) * PAGE_SIZE, codeLimit));
      expect(createHash('sha256').update(data).digest().equals(hash), `page ${page}`).toBe(true);
    });

    const report = verifySignature(signed);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ identifier: 'com.example.test', execSegBase: 0, execSegLimit: TEXT_SIZE, execSegFlags: 1, pages: hashes.length });
  });

  it('the verifier names the page that was changed after signing', () => {
    const signed = signAdHoc(syntheticMachO(), 'x');
    signed[PAGE_SIZE + 10]! ^= 0xff;
    const { errors } = verifySignature(signed);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^page 1 /);
  });

  it('replaces an existing signature instead of stacking a second one', () => {
    const once = signAdHoc(syntheticMachO(), 'first');
    const twice = signAdHoc(once, 'second');
    expect(parseMachO(twice).ncmds).toBe(parseMachO(once).ncmds);
    expect(verifySignature(twice)).toMatchObject({ identifier: 'second', errors: [] });
    expect(signAdHoc(twice, 'first').equals(once)).toBe(true);
  });

  it('removes a signature: command, data and __LINKEDIT growth', () => {
    const original = syntheticMachO();
    const unsigned = removeSignature(signAdHoc(original, 'x'));
    const macho = parseMachO(unsigned);
    expect(macho.codeSignature).toBeUndefined();
    expect(macho.ncmds).toBe(3);
    expect(unsigned.length).toBe(TEXT_SIZE + LINKEDIT_SIZE + 12);
    expect(unsigned.subarray(0, TEXT_SIZE + LINKEDIT_SIZE).subarray(0x200).equals(original.subarray(0x200))).toBe(true);
    expect(() => verifySignature(unsigned)).toThrow(/unsigned/);
  });

  it('refuses what it cannot sign, saying why', () => {
    const noRoom = syntheticMachO({ firstSectionOffset: 32 + 72 * 3 + 80 });
    expect(() => signAdHoc(noRoom, 'x')).toThrow(/no room for LC_CODE_SIGNATURE/);
    expect(() => signAdHoc(syntheticMachO({ trailingBytes: 100 }), 'x')).toThrow(/__LINKEDIT ends at byte/);
    const fat = Buffer.alloc(64);
    fat.writeUInt32BE(0xcafebabe, 0);
    expect(() => parseMachO(fat)).toThrow(MachOError);
    expect(() => parseMachO(fat)).toThrow(/universal/);
    expect(() => parseMachO(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64)))).toThrow(/not a 64-bit little-endian Mach-O/);
  });
});
