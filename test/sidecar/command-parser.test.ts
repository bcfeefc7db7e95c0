import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../protocol/fixtures.js';
import { parseCommand } from '../../sidecar/command-parser.js';

describe('parseCommand', () => {
  it('accepts every command fixture', () => {
    for (const fixture of FIXTURES.filter((f) => f.direction === 'command')) {
      expect(parseCommand(fixture.value)).toEqual({ ok: true, command: fixture.value });
    }
  });

  it('accepts extra trailing elements from a newer host', () => {
    expect(parseCommand([14, 1, 'extra']).ok).toBe(true);
  });

  it.each([
    [null, 'malformed_command', 'a command must be an array starting with its opcode, got nil'],
    [[], 'malformed_command', 'a command must be an array starting with its opcode, got array'],
    [['start'], 'malformed_command', "a command's first element must be an integer opcode, got str"],
    [[1.5], 'malformed_command', "a command's first element must be an integer opcode, got float"],
    [[42], 'unknown_command', 'unknown command opcode 42'],
    [[64, 1], 'unknown_command', 'unknown command opcode 64 (that is an event opcode: events flow from the sidecar to the host)'],
    [[3, 1], 'malformed_command', 'send_text takes 2 argument(s) (int, str), got 1'],
    [[4, 1, 'text'], 'malformed_command', 'send_binary argument 2 must be bin, got str'],
    [[1, 1, []], 'malformed_command', 'start argument 2 must be map, got array'],
  ])('explains %j', (value, code, message) => {
    expect(parseCommand(value)).toEqual({ ok: false, code, message });
  });
});
