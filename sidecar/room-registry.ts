/**
 * Rooms: named groups of client ids kept in the sidecar so one host command
 * can reach a whole group. A room exists while it has members.
 */
export class RoomRegistry {
  private readonly members = new Map<string, Set<number>>();
  private readonly roomsOf = new Map<number, Set<string>>();
  /** Told of every membership that really changed (the cluster follows rooms through it). */
  onChange: ((room: string, clientId: number, joined: boolean) => void) | undefined;

  /** Number of rooms with at least one member. */
  get size(): number {
    return this.members.size;
  }

  /** Adds a client to a room; joining twice is harmless. */
  join(clientId: number, room: string): void {
    let clients = this.members.get(room);
    if (clients === undefined) this.members.set(room, (clients = new Set()));
    if (clients.has(clientId)) return;
    clients.add(clientId);
    let rooms = this.roomsOf.get(clientId);
    if (rooms === undefined) this.roomsOf.set(clientId, (rooms = new Set()));
    rooms.add(room);
    this.onChange?.(room, clientId, true);
  }

  /** Removes a client from a room; leaving a room one is not in is harmless. */
  leave(clientId: number, room: string): void {
    const clients = this.members.get(room);
    if (clients === undefined || !clients.delete(clientId)) return;
    if (clients.size === 0) this.members.delete(room);
    const rooms = this.roomsOf.get(clientId);
    if (rooms !== undefined) {
      rooms.delete(room);
      if (rooms.size === 0) this.roomsOf.delete(clientId);
    }
    this.onChange?.(room, clientId, false);
  }

  /** Removes a client from every room, as when it disconnects. */
  leaveAll(clientId: number): void {
    for (const room of this.roomsOf.get(clientId) ?? []) {
      const clients = this.members.get(room);
      clients?.delete(clientId);
      if (clients?.size === 0) this.members.delete(room);
      this.onChange?.(room, clientId, false);
    }
    this.roomsOf.delete(clientId);
  }

  /** Every room with its members. */
  entries(): IterableIterator<[string, ReadonlySet<number>]> {
    return this.members.entries();
  }

  /** Members of a room; empty for an unknown room. */
  clientsIn(room: string): ReadonlySet<number> {
    return this.members.get(room) ?? EMPTY;
  }

  /** Rooms a client is in. */
  roomsOfClient(clientId: number): ReadonlySet<string> {
    return this.roomsOf.get(clientId) ?? EMPTY_ROOMS;
  }

  clear(): void {
    this.members.clear();
    this.roomsOf.clear();
  }
}

const EMPTY: ReadonlySet<number> = new Set();
const EMPTY_ROOMS: ReadonlySet<string> = new Set();
