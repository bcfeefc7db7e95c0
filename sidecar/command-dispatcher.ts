/**
 * Routes each decoded frame to the server, through the cluster (cluster.ts) for the commands a
 * cluster widens: validation failures become `error` events and the sidecar keeps serving. While
 * a `start` waits for Redis or the metrics port, later frames wait too, so they keep their order.
 */
import { Command, ErrorCode, Event } from '../protocol/constants.js';
import { parseMessage } from '../protocol/message-codec.js';
import type { AnyEvent } from '../protocol/messages.js';
import { decodeStrict } from '../protocol/strict-decoder.js';
import { parseCommand } from './command-parser.js';
import { toPayload } from './outbound.js';
import { Cluster } from './cluster.js';
import type { SidecarServer } from './sidecar-server.js';

export class CommandDispatcher {
  private readonly server: SidecarServer;
  private readonly cluster: Cluster;
  private readonly emit: (event: AnyEvent) => void;
  private readonly onShutdown: () => void;
  /** The `start` or `stop` still being carried out, if any: the next one waits for it. */
  private lifecycle: Promise<void> | undefined;
  /** Frames that arrived while a `start` was getting ready; undefined when none is. */
  private held: Uint8Array[] | undefined;

  /**
   * @param server executes the commands
   * @param emit receives the events commands answer with
   * @param cluster what the cluster-wide commands go through; default one that logs nowhere (no cluster_url needs none)
   * @param onShutdown called for `shutdown`: closes every client with 1001 and exits; default: nothing
   */
  constructor(
    server: SidecarServer,
    emit: (event: AnyEvent) => void,
    cluster: Cluster = new Cluster(server, emit, () => {}),
    onShutdown: () => void = () => {},
  ) {
    this.server = server;
    this.emit = emit;
    this.cluster = cluster;
    this.onShutdown = onShutdown;
  }

  /** Handles one frame body. Never throws for bad input. */
  dispatchFrame(body: Uint8Array): void {
    if (this.held !== undefined) {
      // The frame may be a view of a buffer the decoder reuses: keep a copy.
      this.held.push(Uint8Array.prototype.slice.call(body));
      return;
    }
    const send = parseMessage(body, Command.SEND_TEXT, Command.SEND_BINARY);
    if (send !== undefined) {
      this.cluster.send(send.clientId, send.data, send.binary);
      return;
    }
    let value: unknown;
    try {
      value = decodeStrict(body);
    } catch (error) {
      this.emit([Event.ERROR, ErrorCode.MALFORMED_COMMAND, `a ${body.length}-byte frame is not plain MessagePack (${(error as Error).message})`, 0]);
      return;
    }
    const parsed = parseCommand(value);
    if (!parsed.ok) {
      this.emit([Event.ERROR, parsed.code, parsed.message, 0]);
      return;
    }
    const command = parsed.command;
    const server = this.server;
    switch (command[0]) {
      case Command.START: {
        const [, version, options] = command;
        this.inOrder(() => {
          // With a cluster the start waits for Redis, and so do the frames behind it.
          const ready = this.cluster.start(version, options as Record<string, unknown>);
          if (ready === undefined) return server.startSettled;
          this.holdUntil(ready);
          return ready.then(() => server.startSettled);
        });
        break;
      }
      case Command.STOP:
        this.inOrder(() => server.stop());
        break;
      case Command.SEND_TEXT:
      case Command.SEND_BINARY:
        this.cluster.send(command[1], ...toPayload(command[2]));
        break;
      case Command.BROADCAST_TEXT:
      case Command.BROADCAST_BINARY:
        this.cluster.broadcast(command[1], command[2]);
        break;
      case Command.JOIN_ROOM:
        server.joinRoom(command[1], command[2]);
        break;
      case Command.LEAVE_ROOM:
        server.leaveRoom(command[1], command[2]);
        break;
      case Command.ROOM_TEXT:
      case Command.ROOM_BINARY:
        this.cluster.broadcastToRoom(command[1], command[2], command[3]);
        break;
      case Command.DISCONNECT:
        this.cluster.disconnect(command[1], command[2], command[3]);
        break;
      case Command.ACCEPT:
        server.accept(command[1], command[2]);
        break;
      case Command.REJECT:
        server.reject(command[1], command[2], command[3]);
        break;
      case Command.PING:
        this.emit([Event.PONG, command[1]]);
        break;
      case Command.GET_STATS:
        this.emit([Event.STATS, command[1], server.stats()]);
        break;
      case Command.REQUEST_ROOM_MEMBERS:
        this.cluster.requestRoomMembers(command[1], command[2]);
        break;
      case Command.REQUEST_CLUSTER_STATS:
        this.cluster.requestClusterStats(command[1]);
        break;
      case Command.SHUTDOWN:
        this.onShutdown();
        break;
    }
  }

  /**
   * Runs `step` (a start or a stop) once the previous one finished, at once when none is running:
   * `stop` then `start` in one write answers `stopped` then `listening`, in command order, instead
   * of an `already_listening` for a server that was on its way down. A step that returns no
   * promise finished when it returned and holds nothing up.
   */
  private inOrder(step: () => Promise<void> | void): void {
    const run = this.lifecycle === undefined ? step() : this.lifecycle.then(step);
    if (!(run instanceof Promise)) return;
    const tail = run.finally(() => {
      if (this.lifecycle === tail) this.lifecycle = undefined;
    });
    this.lifecycle = tail;
  }

  private holdUntil(ready: Promise<void>): void {
    this.held = [];
    void ready.finally(() => {
      const frames = this.held ?? [];
      this.held = undefined;
      for (let i = 0; i < frames.length; i++) {
        this.dispatchFrame(frames[i]!);
        // Another start among them holds the rest again, behind itself.
        const heldAgain = this.held as Uint8Array[] | undefined;
        if (heldAgain !== undefined) {
          heldAgain.push(...frames.slice(i + 1));
          return;
        }
      }
    });
  }
}
