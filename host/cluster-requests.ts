/**
 * The cluster's two questions (PROTOCOL.md, "Cluster") for a `SidecarHost`: the members of a room
 * on every server, and the servers with their client counts. Kept out of sidecar-host.ts, which
 * is full; the answer is picked from the host's raw `event` stream by its token.
 */
import { Command, Event } from '../protocol/constants.js';
import type { AnyEvent, ClusterStats } from '../protocol/messages.js';
import type { SidecarHost } from './sidecar-host.js';

/** Tokens of these requests start far from the ones `SidecarHost` hands out for ping and stats. */
let nextToken = 2 ** 40;

/** Sends `request_room_members` and resolves with the room's members across the cluster, ascending. */
export function requestRoomMembers(host: SidecarHost, room: string, timeoutMs = 10_000): Promise<number[]> {
  const token = nextToken++;
  return awaitReply(host, Event.ROOM_MEMBERS, token, 'request_room_members', timeoutMs, () =>
    host.send([Command.REQUEST_ROOM_MEMBERS, token, room]),
  ).then((event) => event[3] as number[]);
}

/** Sends `request_cluster_stats` and resolves with the `cluster_stats` map. */
export function requestClusterStats(host: SidecarHost, timeoutMs = 10_000): Promise<ClusterStats> {
  const token = nextToken++;
  return awaitReply(host, Event.CLUSTER_STATS, token, 'request_cluster_stats', timeoutMs, () => host.send([Command.REQUEST_CLUSTER_STATS, token])).then(
    (event) => event[2] as ClusterStats,
  );
}

function awaitReply(host: SidecarHost, op: number, token: number, what: string, timeoutMs: number, send: () => void): Promise<AnyEvent> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      host.off('event', onEvent);
      host.off('exit', onExit);
    };
    const onEvent = (event: AnyEvent): void => {
      if (event[0] !== op || event[1] !== token) return;
      done();
      resolve(event);
    };
    const onExit = (): void => {
      done();
      reject(new Error(`the sidecar exited before answering ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the sidecar did not answer ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    host.on('event', onEvent);
    host.on('exit', onExit);
    send();
  });
}
