import type { Binary } from 'mongodb';
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
