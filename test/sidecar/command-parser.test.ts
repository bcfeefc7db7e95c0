import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../protocol/fixtures.js';
import { NotUtf8, WireFloat } from '../../protocol/strict-decoder.js';
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

  it('refuses floats where an int is expected, 1.0 and a float opcode included', () => {
    expect(parseCommand([new WireFloat(14), 1])).toEqual({ ok: false, code: 'malformed_command', message: "a command's first element must be an integer opcode, got float" });
    expect(parseCommand([3, new WireFloat(1), 'x'])).toEqual({ ok: false, code: 'malformed_command', message: 'send_text argument 1 must be int, got float' });
    expect(parseCommand([14, new WireFloat(1)])).toEqual({ ok: false, code: 'malformed_command', message: 'ping argument 1 must be int, got float' });
  });

  it('answers a str that is not UTF-8 with invalid_argument naming it, after the types', () => {
    const bad = new NotUtf8(Buffer.from([0x80]));
    expect(parseCommand([11, 1, 4000, bad])).toEqual({ ok: false, code: 'invalid_argument', message: 'disconnect argument 3 (reason) is not valid UTF-8: the command was not carried out' });
    expect(parseCommand([9, bad, 'x', new WireFloat(0)])).toMatchObject({ ok: false, code: 'malformed_command' });
  });

  it('keeps tokens exact and reads other ints past 2^53 as numbers', () => {
    expect(parseCommand([14, 2n ** 64n - 1n])).toEqual({ ok: true, command: [14, 2n ** 64n - 1n] });
    const parsed = parseCommand([3, 2n ** 60n, 'x']);
    expect(parsed.ok && parsed.command[1]).toBe(2 ** 60);
  });

  it('refuses a start whose options are not a map', () => {
    expect(parseCommand([1, 1, new WireFloat(1)])).toEqual({ ok: false, code: 'malformed_command', message: 'start argument 2 must be map, got float' });
  });
});
