/**
 * The next class after issue #12's command-stream defects (9, 10): commands in one write whose
 * answers cross an asynchronous step (binding the port, closing the clients). Found by the same
 * attack pass; not in the issue's list of sixteen.
 *
 * C. `start` then an impossible length prefix in one write: the sidecar exited 2 without answering
 *    the start (0 answers), though PROTOCOL.md says every complete frame before the prefix is
 *    executed and answered.
 * D. `stop` then `start` in one write: the start was refused with `already_listening` ("already
 *    stopping") and, after `start, stop, start`, that refusal came before the first start's
 *    `listening`, so a host matching answers in order took it for the first start's answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, Event, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { sleep } from '../support/attack-clients.js';
import { AttackHost, killAllAttackHosts, type WireEvent } from '../support/attack-host.js';
import { commandFrame, impossibleLengthPrefix } from '../support/attack-msgpack.js';

afterEach(async () => {
  await killAllAttackHosts();
});

const START = commandFrame(Command.START, PROTOCOL_VERSION, { host: '127.0.0.1', port: 0 });
const STOP = commandFrame(Command.STOP);
const isLifecycleAnswer = (e: WireEvent): boolean => e[0] === Event.LISTENING || e[0] === Event.START_FAILED || e[0] === Event.STOPPED;
/** The lifecycle answers so far, as opcodes with start_failed's code. */
const answers = (host: AttackHost): unknown[] => host.all(isLifecycleAnswer).map((e) => (e[0] === Event.START_FAILED ? e[1] : e[0]));

describe('next class: lifecycle commands in one write', () => {
  it('next C: start then an impossible length prefix in one write: the start is answered (1 of 1) before exit 2', async () => {
    const host = await AttackHost.spawn();
    host.write(Buffer.concat([START, impossibleLengthPrefix()]));
    const code = await Promise.race([host.exited, sleep(5000).then(() => 'still running')]);
    expect(code).toBe(2);
    expect(answers(host), host.describe()).toEqual([Event.LISTENING]);
  });

  it('next D: start, stop, start in one write answer listening, stopped, listening in that order', async () => {
    const host = await AttackHost.spawn();
    host.write(Buffer.concat([START, STOP, START]));
    await host.waitUntil(() => (answers(host).length >= 3 ? true : undefined), 5000);
    await sleep(200);
    expect(answers(host), host.describe()).toEqual([Event.LISTENING, Event.STOPPED, Event.LISTENING]);
  });

  it('next D: stop then start in one write while listening answer stopped, then listening on a new port', async () => {
    const host = await AttackHost.spawn();
    await host.start();
    const from = host.events.length;
    host.write(Buffer.concat([STOP, START]));
    await host.waitUntil(() => (host.all(isLifecycleAnswer, from).length >= 2 ? true : undefined), 5000);
    expect(host.all(isLifecycleAnswer, from).map((e) => e[0]), host.describe()).toEqual([Event.STOPPED, Event.LISTENING]);
  });

  it('defect 13, get_stats: the token 2^64-1 comes back as uint64 2^64-1', async () => {
    const host = await AttackHost.spawn();
    host.send(Command.GET_STATS, 2n ** 64n - 1n);
    const answer = await host.next((e) => e[0] === Event.STATS || e[0] === Event.ERROR, 3000);
    const body = host.bodies[host.events.indexOf(answer)]!;
    expect(body.subarray(0, 11).toString('hex')).toBe('934bcfffffffffffffffff');
    expect(answer[1]).toBe(2n ** 64n - 1n);
  });
});
