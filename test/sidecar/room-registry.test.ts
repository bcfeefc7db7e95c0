import { describe, expect, it } from 'vitest';
import { RoomRegistry } from '../../sidecar/room-registry.js';

describe('RoomRegistry', () => {
  it('tracks members both ways and forgets empty rooms', () => {
    const rooms = new RoomRegistry();
    rooms.join(1, 'a');
    rooms.join(2, 'a');
    rooms.join(1, 'b');
    rooms.join(1, 'b');
    expect([...rooms.clientsIn('a')]).toEqual([1, 2]);
    expect([...rooms.roomsOfClient(1)]).toEqual(['a', 'b']);
    expect(rooms.size).toBe(2);
    rooms.leave(1, 'b');
    expect(rooms.size).toBe(1);
    rooms.leaveAll(1);
    expect([...rooms.clientsIn('a')]).toEqual([2]);
    expect([...rooms.roomsOfClient(1)]).toEqual([]);
    rooms.leave(2, 'a');
    expect(rooms.size).toBe(0);
    expect([...rooms.clientsIn('unknown')]).toEqual([]);
  });

  it('ignores leaving a room one is not in', () => {
    const rooms = new RoomRegistry();
    rooms.leave(1, 'nowhere');
    rooms.leaveAll(9);
    expect(rooms.size).toBe(0);
  });

  it('reports every real membership change, and only those', () => {
    const rooms = new RoomRegistry();
    const changes: string[] = [];
    rooms.onChange = (room, id, joined) => changes.push(`${joined ? '+' : '-'}${id}@${room}`);
    rooms.join(1, 'a');
    rooms.join(1, 'a');
    rooms.join(1, 'b');
    rooms.leave(2, 'a');
    rooms.leave(1, 'c');
    rooms.leave(1, 'a');
    rooms.leave(1, 'a');
    rooms.leaveAll(1);
    expect(changes).toEqual(['+1@a', '+1@b', '-1@a', '-1@b']);
    expect(new Map(rooms.entries()).size).toBe(0);
  });
});
