import { describe, expect, it } from '@jest/globals';
import { classifySqlError, isTransientSqlError } from '#polystore/data-router';

/** A node-postgres error as the driver builds it (fields only, no message matching involved). */
const pgError = (code: string, severity: string) => Object.assign(new Error('server says no'), { code, severity });

describe('sql errors - what the old copy of a moved tenant answers is transient', () => {
  it('sql errors - a session terminated by an administrator (57P01) is a lost connection', () => {
    expect(classifySqlError(pgError('57P01', 'FATAL'))).toBe('connection');
    expect(isTransientSqlError({ driverError: pgError('57P01', 'FATAL') })).toBe(true);
  });

  it('sql errors - a database refusing connections (55000 at FATAL) is a lost connection', () => {
    expect(classifySqlError(pgError('55000', 'FATAL'))).toBe('connection');
    expect(classifySqlError({ driverError: pgError('55000', 'FATAL') })).toBe('connection');
  });

  it('sql errors - 55000 as a query error (e.g. currval before nextval) stays a query-level failure', () => {
    expect(classifySqlError(pgError('55000', 'ERROR'))).toBe('other');
    expect(isTransientSqlError(pgError('55000', 'ERROR'))).toBe(false);
  });

  it('sql errors - a database that does not exist (3D000) is unreachable', () => {
    expect(classifySqlError(pgError('3D000', 'FATAL'))).toBe('connection');
  });
});
