import { describe, expect, it } from '@jest/globals';
import { DataRouterErrorCode, DialectSeam, dialectFamilyOf } from '#polystore/data-router';
import { DataSource } from 'typeorm';

/** Real (uninitialized) TypeORM DataSources: the seam reads only their engine. */
const managerOf = (type: 'postgres' | 'mariadb' | 'mysql' | 'mongodb') =>
  new DataSource({ type, host: '127.0.0.1', database: 'x' }).manager;

describe('data-router - one seam per dialect', () => {
  it('dialect seam - picks the implementation of the unit of work engine; MariaDB and MySQL are one family', () => {
    const seam = new DialectSeam('test store', { postgres: 'pg', mysql: 'my', mongodb: 'mongo' });
    expect(['postgres', 'mariadb', 'mysql', 'mongodb'].map((t) => seam.of(managerOf(t as never)))).toEqual([
      'pg',
      'my',
      'my',
      'mongo',
    ]);
    expect(dialectFamilyOf(managerOf('mariadb'))).toBe('mysql');
    expect(seam.families.sort()).toEqual(['mongodb', 'mysql', 'postgres']);
  });

  it('dialect seam - an engine the store has no implementation for is INVALID_PLACEMENT naming both', () => {
    const seam = new DialectSeam('edge readings', { postgres: 'pg', mongodb: 'mongo' });
    expect(() => seam.of(managerOf('mariadb'))).toThrow(
      expect.objectContaining({
        code: DataRouterErrorCode.INVALID_PLACEMENT,
        message: expect.stringContaining('edge readings cannot run on mysql'),
      }),
    );
  });
});
