/**
 * Routes each decoded frame to the server: validation failures become
 * `error` events and the sidecar keeps serving.
 */
import { Command, ErrorCode, Event } from '../protocol/constants.js';
import { parseMessage } from '../protocol/message-codec.js';
import type { AnyEvent } from '../protocol/messages.js';
import { unpackValue } from '../protocol/msgpack.js';
import { parseCommand } from './command-parser.js';
import { toPayload } from './outbound.js';
import type { SidecarServer } from './sidecar-server.js';

export class CommandDispatcher {
  private readonly server: SidecarServer;
  private readonly emit: (event: AnyEvent) => void;
  private readonly onShutdown: () => void;

  /**
   * @param server executes the commands
   * @param emit receives the events commands answer with
   * @param onShutdown called for `shutdown`: closes every client with 1001 and exits; default: nothing
   */
  constructor(server: SidecarServer, emit: (event: AnyEvent) => void, onShutdown: () => void = () => {}) {
    this.server = server;
    this.emit = emit;
    this.onShutdown = onShutdown;
  }

  /** Handles one frame body. Never throws for bad input. */
  dispatchFrame(body: Uint8Array): void {
    const send = parseMessage(body, Command.SEND_TEXT, Command.SEND_BINARY);
    if (send !== undefined) {
      this.server.send(send.clientId, send.data, send.binary);
      return;
    }
    let value: unknown;
    try {
      value = unpackValue(body);
    } catch (error) {
      this.emit([Event.ERROR, ErrorCode.MALFORMED_COMMAND, `a ${body.length}-byte frame is not valid MessagePack (${(error as Error).message})`, 0]);
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
      case Command.START:
        server.start(command[1], command[2] as Record<string, unknown>);
        break;
      case Command.STOP:
        void server.stop();
        break;
      case Command.SEND_TEXT:
      case Command.SEND_BINARY:
        server.send(command[1], ...toPayload(command[2]));
        break;
      case Command.BROADCAST_TEXT:
      case Command.BROADCAST_BINARY:
        server.broadcast(command[1], command[2]);
        break;
      case Command.JOIN_ROOM:
        server.joinRoom(command[1], command[2]);
        break;
      case Command.LEAVE_ROOM:
        server.leaveRoom(command[1], command[2]);
        break;
      case Command.ROOM_TEXT:
      case Command.ROOM_BINARY:
        server.broadcastToRoom(command[1], command[2], command[3]);
        break;
      case Command.DISCONNECT:
        server.disconnect(command[1], command[2], command[3]);
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
      case Command.SHUTDOWN:
        this.onShutdown();
        break;
    }
  }
}
