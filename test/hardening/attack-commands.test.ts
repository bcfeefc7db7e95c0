/**
 * Issue #12, attacks on the command stream: frames a host (or a corrupted
 * pipe) can write that the sidecar must answer exactly as PROTOCOL.md says.
 * Defects 9, 10, 11, 12, 13 and 16, and the float-typed integer decision.
 * Black-box: the real child process, driven by `test/support/attack-host.ts`.
 */
import { describe, expect, it } from 'vitest';
import { Command, Event, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { openWs, sleep } from '../support/attack-clients.js';
import { cleanUpAfterEachAttack } from '../support/attack-cleanup.js';
import { AttackHost } from '../support/attack-host.js';
import {
  commandFrame,
  encode,
  EXTENSION_VALUE,
  float64,
  frameOf,
  impossibleLengthPrefix,
  RESERVED_BYTE,
  TIMESTAMP_EXTENSION,
  strBytes,
  type WireValue,
} from '../support/attack-msgpack.js';

cleanUpAfterEachAttack();

/** Bytes that are not UTF-8: a lone continuation byte and an overlong encoding of '/'. */
const NOT_UTF8 = Buffer.from([0x61, 0x80, 0x62, 0xc0, 0xaf]);

describe('issue #12: the command stream', () => {
  it('defect 9: 2 pings written with an impossible length prefix in one write are both answered before exit 2', async () => {
    const host = await AttackHost.spawn();
    host.write(Buffer.concat([commandFrame(Command.PING, 1), commandFrame(Command.PING, 2), impossibleLengthPrefix()]));
    const code = await Promise.race([host.exited, sleep(5000).then(() => 'still running')]);
    expect(code).toBe(2);
    expect(host.all(Event.PONG).map((e) => e[1])).toEqual([1, 2]);
  });

  it('defect 10: start then stop in one write answers the start exactly once, then stopped', async () => {
    const host = await AttackHost.spawn();
    host.write(Buffer.concat([
      commandFrame(Command.START, PROTOCOL_VERSION, { host: '127.0.0.1', port: 0 }),
      commandFrame(Command.STOP),
    ]));
    await host.next(Event.STOPPED, 5000);
    await sleep(300);
    const answers = host.all((e) => e[0] === Event.LISTENING || e[0] === Event.START_FAILED);
    expect(answers.length, host.describe()).toBe(1);
  });

  it('defect 11: accept and reject before start answer not_listening (2 of 2)', async () => {
    const host = await AttackHost.spawn();
    host.send(Command.ACCEPT, 1, '');
    host.send(Command.REJECT, 1, 403, 'no');
    await host.waitUntil(() => (host.all(Event.ERROR).length >= 2 ? true : undefined), 3000);
    expect(host.all(Event.ERROR).map((e) => e[1])).toEqual(['not_listening', 'not_listening']);
  });

  describe('defect 12: extension types, 0xc1 and nil are refused, never defaulted', () => {
    const cases: Array<[string, WireValue]> = [
      ['an application extension', EXTENSION_VALUE],
      ['a timestamp extension', TIMESTAMP_EXTENSION],
      ['the reserved byte 0xc1', RESERVED_BYTE],
    ];
    for (const [what, value] of cases) {
      it(`defect 12: a ping carrying ${what} (as an extra element) answers malformed_command, 0 pongs`, async () => {
        const host = await AttackHost.spawn();
        host.send(Command.PING, 4, value);
        host.send(Command.PING, 5);
        await host.next((e) => e[0] === Event.PONG && e[1] === 5, 3000);
        expect(host.all((e) => e[0] === Event.PONG && e[1] !== 5)).toEqual([]);
        expect(host.all(Event.ERROR).map((e) => e[1])).toEqual(['malformed_command']);
      });

      it(`defect 12: a start whose response_headers is ${what} does not listen (malformed_command or invalid_option)`, async () => {
        const host = await AttackHost.spawn();
        // Not the options map itself: today that listens with every default, on 0.0.0.0:8080.
        host.send(Command.START, PROTOCOL_VERSION, { host: '127.0.0.1', port: 0, response_headers: value });
        const answer = await host.next((e) => e[0] === Event.LISTENING || e[0] === Event.START_FAILED || e[0] === Event.ERROR, 3000);
        expect(answer[0], host.describe()).not.toBe(Event.LISTENING);
        expect(['malformed_command', 'invalid_option']).toContain(answer[1]);
      });
    }

    for (const key of ['max_message_size', 'path', 'permessage_deflate']) {
      it(`defect 12: a start with ${key} = nil fails with invalid_option`, async () => {
        const host = await AttackHost.spawn();
        host.send(Command.START, PROTOCOL_VERSION, { host: '127.0.0.1', port: 0, [key]: null });
        const answer = await host.next((e) => e[0] === Event.LISTENING || e[0] === Event.START_FAILED, 3000);
        expect(answer.slice(0, 2), host.describe()).toEqual([Event.START_FAILED, 'invalid_option']);
      });
    }
  });

  describe('defect 13: ping tokens are echoed exactly, as integers', () => {
    const tokens: bigint[] = [2n ** 32n, -(2n ** 31n) - 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n];
    for (const token of tokens) {
      it(`defect 13: ping ${token} comes back as the integer ${token} (not a float)`, async () => {
        const host = await AttackHost.spawn();
        host.send(Command.PING, token);
        const from = host.events.length;
        const answer = await host.next((e) => e[0] === Event.PONG || e[0] === Event.ERROR, 3000, from);
        const body = host.bodies[host.events.indexOf(answer)]!;
        // body: fixarray(2), opcode 74, then the token's first byte: 0xca/0xcb are floats.
        expect([0xca, 0xcb], `token encoded as ${body.toString('hex')}`).not.toContain(body[2]);
        expect(BigInt(answer[1] as number | bigint)).toBe(token);
      });
    }
  });

  it('decision: float-typed integers are refused: opcode 14.0 and client id 1.0 answer malformed_command (2 of 2)', async () => {
    const host = await AttackHost.spawn();
    const { port } = await host.start();
    const client = await openWs(port);
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    await host.next(Event.CLIENT_CONNECTED);
    host.write(commandFrame(float64(Command.PING), 9));
    host.write(commandFrame(Command.SEND_TEXT, float64(1), 'float id'));
    await host.waitUntil(() => (host.all(Event.ERROR).length >= 2 ? true : undefined), 2000);
    await sleep(200);
    expect(host.all(Event.PONG)).toEqual([]);
    expect(received).toEqual([]);
    expect(host.all(Event.ERROR).map((e) => e[1])).toEqual(['malformed_command', 'malformed_command']);
  });

  describe('defect 16: invalid UTF-8 from the host is refused with invalid_argument', () => {
    const commands: Array<[string, (id: number) => Buffer]> = [
      ['send_text', (id) => frameOf(encode([Command.SEND_TEXT, id, strBytes(NOT_UTF8)]))],
      ['disconnect reason', (id) => frameOf(encode([Command.DISCONNECT, id, 4000, strBytes(NOT_UTF8)]))],
      ['join_room room', (id) => frameOf(encode([Command.JOIN_ROOM, id, strBytes(NOT_UTF8)]))],
      ['broadcast_text', () => frameOf(encode([Command.BROADCAST_TEXT, strBytes(NOT_UTF8), 0]))],
    ];
    for (const [what, build] of commands) {
      it(`defect 16: ${what} with invalid UTF-8 answers invalid_argument and sends 0 bytes of U+FFFD`, async () => {
        const host = await AttackHost.spawn();
        const { port } = await host.start();
        const client = await openWs(port);
        const received: string[] = [];
        client.on('message', (data) => received.push(String(data)));
        client.on('close', (code, reason) => received.push(`close ${code} ${String(reason)}`));
        const id = (await host.next(Event.CLIENT_CONNECTED))[1] as number;
        host.write(build(id));
        const error = await host.find(Event.ERROR, 2000);
        await sleep(200);
        expect(received, 'what reached the client').toEqual([]);
        expect(error?.[1], host.describe()).toBe('invalid_argument');
      });
    }
  });
});
