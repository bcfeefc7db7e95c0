/** Every generated file on disk equals what `npm run fixtures` would write now. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles, renderOptionTable, withOptionTable } from '../../protocol/generated-files.js';
import { START_OPTIONS } from '../../protocol/start-options.js';

const root = join(__dirname, '..', '..');

describe('generated files', () => {
  for (const file of generatedFiles(root)) {
    it(`${file.path} is up to date`, () => {
      const onDisk = readFileSync(join(root, file.path));
      const fresh = Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content);
      if (!onDisk.equals(fresh)) {
        expect.fail(`${file.path} is stale: run "npm run fixtures" and commit the result`);
      }
    });
  }

  it('the option table lists every option once, ints with a range around their default', () => {
    const keys = START_OPTIONS.map((option) => option.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const option of START_OPTIONS) {
      if (option.type !== 'int') continue;
      expect(option.min <= option.default && option.default <= option.max, option.key).toBe(true);
    }
    expect(renderOptionTable().split('\n')).toHaveLength(START_OPTIONS.length + 4);
  });

  it('PROTOCOL.md without its table markers is refused, not silently skipped', () => {
    expect(() => withOptionTable('# no markers here\n')).toThrow(/lacks the start-options markers/);
  });
});
