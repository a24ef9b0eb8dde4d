import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  LANDING_DATABASE,
  MysqlRuntimeLogin,
  ServerRoles,
  type RuntimeLogin,
  type ServerLogin,
} from '#polystore/data-router';
import { uniqueToken } from '../../../test/support/ids.js';
import { mariaQuery } from '../../../test/support/mariadb.js';
import { TestServices } from '../../../test/support/services.js';

/** `mysql://<login>:<password>@host:port` on the test server. */
function as(login: { username: string; password?: string }): string {
  const url = new URL(TestServices.mariadbUrl);
  url.username = login.username;
  url.password = login.password ?? '';
  return url.toString();
}

/**
 * The MySQL/MariaDB logins of `polystore db-roles`, with names of this run's own: a provisioning
 * login that may not manage accounts (with `CREATE USER` it could drop any account or set its
 * password, an administrator's included), and a store's runtime login that the administrator makes.
 */
describe('data-router - MySQL/MariaDB logins on the real server', () => {
  const token = uniqueToken(6);
  const provisioner: ServerLogin = { username: `ps_mlp_${token}`, password: `pw${uniqueToken(20)}` };
  const runtime: RuntimeLogin = {
    username: `ps_mlr_${token}`,
    password: `pw${uniqueToken(20)}`,
    databasePrefix: `ps_mlr${token}_`,
  };
  const other = `ps_mlo_${token}`;

  beforeAll(async () => {
    // As an earlier version made it: with CREATE USER.
    await ServerRoles.ensureProvisioner(TestServices.mariadbUrl, provisioner);
    await mariaQuery(`GRANT CREATE USER ON *.* TO '${provisioner.username}'@'%'`);
    await mariaQuery(`CREATE USER '${other}'@'%' IDENTIFIED BY '${runtime.password}'`);
  });

  afterAll(async () => {
    for (const user of [provisioner.username, runtime.username, other])
      await mariaQuery(`DROP USER IF EXISTS '${user}'@'%'`);
    await mariaQuery(`DROP DATABASE IF EXISTS \`${runtime.databasePrefix}a\``);
  });

  it('mysql logins - the provisioning login loses CREATE USER and cannot alter or drop another account', async () => {
    await ServerRoles.ensureProvisioner(TestServices.mariadbUrl, provisioner);
    const grants = await mariaQuery<Record<string, string>>('SHOW GRANTS', [], undefined, as(provisioner));
    expect(grants.map((row) => Object.values(row)[0]).join('\n')).not.toContain('CREATE USER');
    for (const takeover of [
      `ALTER USER '${other}'@'%' IDENTIFIED BY 'taken-over-password-1'`,
      `DROP USER '${other}'@'%'`,
    ])
      await expect(mariaQuery(takeover, [], undefined, as(provisioner))).rejects.toMatchObject({
        code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR',
      });
    await expect(
      mariaQuery('SELECT 1 AS ok', [], undefined, as({ username: other, password: runtime.password! })),
    ).resolves.toEqual([{ ok: 1 }]);
    // Idempotent: again, with nothing left to revoke.
    await expect(ServerRoles.ensureProvisioner(TestServices.mariadbUrl, provisioner)).resolves.toBeUndefined();
  });

  it('mysql logins - through the provisioning login, a missing runtime login is left to the operator: nothing made', async () => {
    await expect(MysqlRuntimeLogin.ensure(as(provisioner), runtime, LANDING_DATABASE)).resolves.toBe(false);
    const users = await mariaQuery('SELECT User FROM mysql.user WHERE User = ?', [runtime.username]);
    expect(users).toEqual([]);
  });

  it("mysql logins - the administrator's runtime login reaches its store's databases only", async () => {
    await ServerRoles.ensureMysqlRuntimeLogins(TestServices.mariadbUrl, [runtime]);
    const login = as(runtime);
    await mariaQuery(`CREATE DATABASE \`${runtime.databasePrefix}a\``, [], undefined, login);
    await expect(mariaQuery('SELECT 1 AS ok', [], LANDING_DATABASE, login)).resolves.toEqual([{ ok: 1 }]);
    await expect(mariaQuery(`CREATE DATABASE ps_mlx${token}_a`, [], undefined, login)).rejects.toMatchObject({
      code: 'ER_DBACCESS_DENIED_ERROR',
    });
    await expect(mariaQuery('SELECT User FROM mysql.user', [], undefined, login)).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    // Run again with another password (a store key changed): the login follows.
    const changed = { ...runtime, password: `pw${uniqueToken(20)}` };
    await ServerRoles.ensureMysqlRuntimeLogins(TestServices.mariadbUrl, [changed]);
    await expect(mariaQuery('SELECT 1', [], undefined, login)).rejects.toMatchObject({
      code: 'ER_ACCESS_DENIED_ERROR',
    });
    await expect(mariaQuery('SELECT 1 AS ok', [], undefined, as(changed))).resolves.toEqual([{ ok: 1 }]);
  });
});
