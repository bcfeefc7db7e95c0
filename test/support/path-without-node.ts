/** PATH as on a player's machine: every folder holding a `node` executable left out. */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function pathWithoutNode(): string {
  return (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !existsSync(join(dir, 'node'))).join(delimiter);
}
