import { ReliableStoreException } from '../reliable-store.exception.js';

/** Position after the last device of a page: (created_at, id), newest first. */
export interface DeviceCursor {
  readonly createdAt: Date;
  readonly id: string;
}

export function encodeCursor(cursor: DeviceCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.getTime(), cursor.id])).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; `INVALID_CURSOR` for anything else. */
export function decodeCursor(text: string): DeviceCursor {
  try {
    const [ms, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms !== 'number' || !Number.isFinite(ms) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) {
      throw new Error('bad cursor');
    }
    return { createdAt: new Date(ms), id };
  } catch {
    throw ReliableStoreException.invalidCursor();
  }
}
