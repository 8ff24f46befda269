import { randomFillSync } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then version, random bits and variant. Time
 * first means a prediction's id says when it was made, so the `prediction` table is range
 * partitioned by its primary key (database/partitions.ts) and every foreign key and query by id
 * stays as it is. Hand-written rather than a dependency: the `uuid` in node_modules is 8.3 (no v7)
 * and Node has no randomUUIDv7; the format is these few lines. Random bytes come from a pool
 * refilled 256 ids at a time, as `crypto.randomUUID` does, so an id costs no system call.
 */
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function uuidv7(now: number = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const b = pool.subarray(16 * next, 16 * next + 16);
  next++;
  // 48-bit big-endian milliseconds (two steps: bitwise operators are 32-bit).
  const high = Math.floor(now / 2 ** 16);
  b[0] = (high >>> 24) & 0xff;
  b[1] = (high >>> 16) & 0xff;
  b[2] = (high >>> 8) & 0xff;
  b[3] = high & 0xff;
  b[4] = (now >>> 8) & 0xff;
  b[5] = now & 0xff;
  b[6] = (b[6]! & 0x0f) | 0x70; // version 7
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = (i: number) => HEX[b[i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/**
 * The smallest UUID whose first 48 bits are `ms`: every UUIDv7 made at `ms` or later sorts at or
 * above it (PostgreSQL compares uuids bytewise), every one made before sorts below.
 */
export function uuidv7Bound(ms: number): string {
  const t = Math.floor(ms).toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-0000-0000-000000000000`;
}

/** The milliseconds a UUIDv7 (or a bound) carries in its first 48 bits. */
export function uuidv7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
