import { describe, expect, it } from '@jest/globals';
import { deriveKey, seal } from '#polystore/platform';
import { CatalogErrorCode, ServerSecretBox, storeKeyOf } from '#polystore/catalog';

const MASTER = Buffer.alloc(32, 11);
const TENANT = '5b0c7e34-6f1d-4e0a-9a2b-8f3c1d2e4a5b';

describe('catalog - server passwords sealed per store', () => {
  const operator = new ServerSecretBox({ masterKey: MASTER });
  const edge = new ServerSecretBox({ storeKeys: { edge: storeKeyOf(MASTER, 'edge') } });

  it('a store opens the passwords of its own placements, sealed by a process holding the master key', () => {
    const sealed = operator.seal('edge-db-password', TENANT, 'edge');
    expect(edge.open(sealed, TENANT, 'edge')).toBe('edge-db-password');
    expect(operator.open(sealed, TENANT, 'edge')).toBe('edge-db-password');
  });

  it("a store holding only its own key cannot open another store's passwords, nor seal for it", () => {
    const secure = operator.seal('secure-db-password', TENANT, 'secure');
    expect(() => edge.open(secure, TENANT, 'secure')).toThrow(
      expect.objectContaining({ code: CatalogErrorCode.NO_STORE_KEY }),
    );
    expect(() => edge.seal('x', TENANT, 'secure')).toThrow(
      expect.objectContaining({ code: CatalogErrorCode.NO_STORE_KEY }),
    );
    // Nor by relabelling it as its own: the store and tenant are bound into the seal.
    expect(() => edge.open(secure, TENANT, 'edge')).toThrow();
  });

  it('a password sealed before store keys (with the master-derived catalog key) opens where the master key is held, and is recognised as legacy', () => {
    const legacy = seal(
      deriveKey(MASTER, 'polystore/catalog/server-secret'),
      'old-password',
      `placement:${TENANT}:edge`,
    );
    expect(operator.open(legacy, TENANT, 'edge')).toBe('old-password');
    expect(operator.isLegacy(legacy, TENANT, 'edge')).toBe(true);
    expect(operator.isLegacy(operator.seal('new', TENANT, 'edge'), TENANT, 'edge')).toBe(false);
    expect(() => edge.open(legacy, TENANT, 'edge')).toThrow();
  });

  it('a password sealed under another master key is PLACEMENT_SECRET_UNREADABLE (503, naming the store), not a crypto error', () => {
    const other = new ServerSecretBox({ masterKey: Buffer.alloc(32, 12) });
    const sealed = other.seal('elsewhere', TENANT, 'edge');
    for (const box of [operator, edge])
      expect(() => box.open(sealed, TENANT, 'edge')).toThrow(
        expect.objectContaining({
          code: CatalogErrorCode.PLACEMENT_SECRET_UNREADABLE,
          kind: 'UNAVAILABLE',
          message: expect.stringContaining('edge placement'),
        }),
      );
  });

  it('store keys differ per store and per master key', () => {
    const keys = ['secure', 'reliable', 'edge'].map((store) => storeKeyOf(MASTER, store).toString('hex'));
    expect(new Set(keys).size).toBe(3);
    expect(storeKeyOf(Buffer.alloc(32, 12), 'edge').equals(storeKeyOf(MASTER, 'edge'))).toBe(false);
  });
});
