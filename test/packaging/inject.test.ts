/**
 * Structural checks of the four built sidecar executables, without running
 * them: headers parse for the right machine, the NODE_SEA_BLOB resource is
 * present and is the blob that was built, the SEA fuse is flipped, the Windows
 * binary no longer carries the (now invalid) Authenticode signature, and the
 * macOS ad-hoc signatures verify page by page. Each check is skipped, naming
 * the build command, when its binary has not been built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLOB_PATH, PLATFORMS, outputBinary } from '../../packaging/config.js';
import { detectFormat, findSeaBlob, parsePE, seaFuseState } from '../../packaging/inspect.js';
import { parseMachO, verifySignature } from '../../packaging/macho-sign.js';
import { MACOS_IDENTIFIER } from '../../packaging/inject.js';

const CPU_TYPE_X86_64 = 0x01000007;
const CPU_TYPE_ARM64 = 0x0100000c;
const MH_EXECUTE = 2;

for (const platform of PLATFORMS) {
  const file = outputBinary(platform);
  const built = existsSync(file);
  const title = (name: string): string => (built ? name : `${name} (skipped: ${file} not built; run "npm run build:binaries")`);

  describe(`${platform.dir} executable`, () => {
    // Read lazily: four binaries of ~110 MB each.
    let cached: Buffer | undefined;
    const bytes = (): Buffer => (cached ??= readFileSync(file));

    it.skipIf(!built)(title(`has ${platform.format} headers for the right machine`), () => {
      const buf = bytes();
      expect(detectFormat(buf)).toBe(platform.format);
      if (platform.format === 'elf') {
        expect(buf[4]).toBe(2); // ELFCLASS64
        expect(buf.readUInt16LE(18)).toBe(62); // EM_X86_64
      } else if (platform.format === 'pe') {
        const pe = parsePE(buf);
        expect(pe.machine).toBe(0x8664);
        expect(pe.optionalMagic).toBe(0x20b);
        expect(pe.subsystem).toBe(3); // console: stdio pipes work
        expect(pe.sections.map((s) => s.name)).toContain('.rsrc');
      } else {
        const macho = parseMachO(buf);
        expect(macho.cputype).toBe(platform.dir === 'macos-arm64' ? CPU_TYPE_ARM64 : CPU_TYPE_X86_64);
        expect(macho.filetype).toBe(MH_EXECUTE);
        expect(macho.segments.map((s) => s.name)).toEqual(expect.arrayContaining(['__TEXT', 'NODE_SEA', '__LINKEDIT']));
      }
    });

    it.skipIf(!built)(title('carries the NODE_SEA_BLOB resource with the flipped SEA fuse'), () => {
      const buf = bytes();
      const blob = findSeaBlob(buf);
      expect(blob, 'no NODE_SEA_BLOB').toBeDefined();
      if (existsSync(BLOB_PATH)) {
        expect(
          blob!.equals(readFileSync(BLOB_PATH)),
          `${file} carries an older sidecar than the last build (${BLOB_PATH}): run "npm run build:binaries" to rebuild every platform`,
        ).toBe(true);
      }
      expect(seaFuseState(buf)).toBe('1');
    });

    if (platform.format === 'pe') {
      it.skipIf(!built)(title('has no Authenticode signature left'), () => {
        expect(parsePE(bytes()).directories[4]).toEqual([0, 0]);
      });
    }

    if (platform.format === 'macho') {
      it.skipIf(!built)(title('has an ad-hoc signature whose every page hash verifies'), () => {
        const report = verifySignature(bytes());
        expect(report.errors).toEqual([]);
        expect(report.identifier).toBe(MACOS_IDENTIFIER);
        expect(report.flags).toBe(0x2);
        expect(report.pages).toBe(Math.ceil(report.codeLimit / 4096));
        expect(report.pages).toBeGreaterThan(20_000);
      });
    }
  });
}
