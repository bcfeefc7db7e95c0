/**
 * Client ids in cluster mode (PROTOCOL.md, "Cluster"): `node × 2^32 + local`. The low 32 bits
 * are the server's own counter, the next 21 bits its node number, so every id stays below 2^53:
 * exact as a JavaScript number and as a GDScript int, and a server can tell from an id alone
 * which server holds that client.
 */

/** Bits of the server's own client counter. */
export const LOCAL_ID_BITS = 32;
/** Bits of the node number. */
export const NODE_BITS = 21;
/** Node numbers run from 1 to this. */
export const MAX_NODE = 2 ** NODE_BITS - 1;

const LOCAL_SPAN = 2 ** LOCAL_ID_BITS;

/** The node number for the `sequence`-th server start (Redis INCR, from 1): folded into 1 to MAX_NODE. */
export function nodeFromSequence(sequence: number): number {
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new RangeError(`a node sequence must be a positive integer, got ${sequence}`);
  return ((sequence - 1) % MAX_NODE) + 1;
}

/** The first id a server with node number `node` adds its counter to: 0 without a cluster. */
export function idBase(node: number): number {
  return node * LOCAL_SPAN;
}

/** The node number an id belongs to: 0 for ids of a server outside any cluster. */
export function nodeOf(clientId: number): number {
  return Math.floor(clientId / LOCAL_SPAN);
}
