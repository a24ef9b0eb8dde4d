import type { Binary } from 'mongodb';
import type { EntityManager } from 'typeorm';

/** True when `db` works on MongoDB (the tenant's placement is on a `mongodb://` server). */
export function isMongo(db: EntityManager): boolean {
  return db.connection.options.type === 'mongodb';
}

/** Device ids as PostgreSQL's `uuid` type stores and prints them (lowercase), so lookups match either way. */
export function normalizeDeviceId(deviceId: string): string {
  return deviceId.toLowerCase();
}

/** Bytes read back from MongoDB (BSON `Binary`, or a Buffer when `promoteBuffers` is on) as a Buffer. */
export function toBuffer(value: Buffer | Binary | Uint8Array): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const bytes = value instanceof Uint8Array ? value : value.value();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
