import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A key per customer (crypto-shredding). `customer_keys` holds each customer's own data key,
 * wrapped by the tenant key; it references its customer `ON DELETE CASCADE`, so deleting a
 * customer, by any path, destroys its key in the same statement. `customers.key_scheme` says
 * which key sealed a row: 2 = its own key, 1 = the tenant's field subkey. Existing rows were
 * sealed with the tenant's field subkey, and so is any row an older secure store process writes
 * during a rolling upgrade (it does not name the column): hence the default of 1.
 * `polystore keys upgrade-customers` moves rows from 1 to 2.
 */
export class SecureCustomerKeys1764208600000 implements MigrationInterface {
  name = 'SecureCustomerKeys1764208600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE customers ADD COLUMN key_scheme smallint NOT NULL DEFAULT 1 CONSTRAINT customers_key_scheme_check CHECK (key_scheme IN (1, 2))',
    );
    await q.query(`
      CREATE TABLE customer_keys (
        customer_id uuid PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  /** Refused while a customer is sealed with a key of its own: without that key it could not be read. */
  async down(q: QueryRunner): Promise<void> {
    const own = (await q.query('SELECT 1 FROM customers WHERE key_scheme = 2 LIMIT 1')) as unknown[];
    if (own.length > 0)
      throw new Error('customers are sealed with keys of their own: reverting SecureCustomerKeys would lose them');
    await q.query('DROP TABLE customer_keys');
    await q.query('ALTER TABLE customers DROP COLUMN key_scheme');
  }
}
