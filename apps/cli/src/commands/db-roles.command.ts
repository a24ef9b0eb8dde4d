import { readFileSync } from 'node:fs';
import {
  ensureStoreCatalogLogins,
  sharedDatabaseName,
  storeCatalogLogin,
  storeKeyOf,
  storeManifests,
  STORE_NAMES,
} from '#polystore/catalog';
import { parseServerUrl, SAFE_PASSWORD, ServerRoles, type ServerLogin } from '#polystore/data-router';
import { resolveMasterKey, runtimeLogin } from '#polystore/runtime';
import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { UsageError } from './arguments.js';

interface DbRolesFlags {
  provisioner: string;
  provisionerPasswordFile?: string;
  catalogDatabase?: string;
  catalogLogin: string;
  catalogPasswordFile?: string;
}

/**
 * A password from a file (trailing line breaks removed), or none: servers with trust auth. It is
 * spliced into DDL, so only 16-128 characters of [A-Za-z0-9_-] pass; the error names the option,
 * never the password.
 */
function passwordFrom(option: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let password: string;
  try {
    password = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch {
    throw new UsageError(`${option}: cannot read ${file}`);
  }
  if (!SAFE_PASSWORD.test(password))
    throw new UsageError(`${option}: the password must be 16-128 characters of [A-Za-z0-9_-]`);
  return password;
}

/**
 * `<scheme>://<login>@host:port[/database][?tls]`: what the services are given, without the
 * password; the administrative URL's TLS settings apply to the new login too.
 */
function urlFor(adminUrl: string, login: string, database?: string): string {
  const url = new URL(adminUrl);
  url.username = login;
  url.password = '';
  url.pathname = database ? `/${database}` : '';
  return url.toString();
}

/**
 * `polystore db-roles`: creates (or updates) on each server of DB_ADMIN_URLS the logins the
 * services use instead of a superuser (docs/security.md, "Database logins"): the provisioning login
 * for the placements' server URLs; on PostgreSQL servers the runtime logins of the stores placed
 * there by default, with the functions that let them provision their schema placements without
 * the provisioning login (`ServerRoles.ensureSchemaProvisioning`); on MySQL/MariaDB servers the
 * runtime logins of the stores that run there (passwords derived from their store keys, so from
 * MASTER_KEY: the provisioning login may not manage accounts); and, with `--catalog-database`,
 * the login owning the system database (on the first PostgreSQL server listed) and each store's
 * own catalog login there (`ps_<store>_catalog`, password from its store key: only what the store
 * reads and writes in the catalog). Prints the URLs to give the services, without passwords. Idempotent; run it again
 * after an upgrade, a store key's change or to change a password.
 */
export function registerDbRoles(program: Command, runtime: CliRuntime): void {
  program
    .command('db-roles')
    .description(
      'create the non-superuser logins of the services on the servers of DB_ADMIN_URLS (administrative URLs, best as DB_ADMIN_URLS_FILE)',
    )
    .option(
      '--provisioner <login>',
      'provisioning login: creates tenant databases, schemas and roles',
      'polystore_provisioner',
    )
    .option('--provisioner-password-file <file>', 'its password (16-128 of [A-Za-z0-9_-]); none on trust-auth servers')
    .option('--catalog-database <name>', 'the system database: create it, owned by the catalog login')
    .option('--catalog-login <login>', 'login owning the system database (SYSTEM_DB_URL)', 'polystore_catalog')
    .option('--catalog-password-file <file>', 'its password')
    .action((flags: DbRolesFlags) =>
      runtime.runOffline(async (config) => {
        const adminUrls = config.DB_ADMIN_URLS;
        if (!adminUrls) throw new UsageError('DB_ADMIN_URLS (or DB_ADMIN_URLS_FILE): the servers to set up');
        const provisioner: ServerLogin = {
          username: flags.provisioner,
          ...optionalPassword(passwordFrom('--provisioner-password-file', flags.provisionerPasswordFile)),
        };
        // The runtime and store catalog logins' passwords derive from the store keys.
        const root = resolveMasterKey(config).derivationRoot;
        for (const adminUrl of adminUrls) {
          await ServerRoles.ensureProvisioner(adminUrl, provisioner, STORE_NAMES.map(sharedDatabaseName));
          process.stdout.write(`provisioning login: ${urlFor(adminUrl, provisioner.username)}\n`);
          const { dialect } = parseServerUrl(adminUrl);
          if (dialect === 'postgres') {
            // The stores placed on PostgreSQL by default may reach it with their runtime login only.
            for (const store of storeManifests().filter(
              (m) => parseServerUrl(m.defaultServerUrl).dialect === dialect,
            )) {
              const login = runtimeLogin(store.name, storeKeyOf(root, store.name));
              await ServerRoles.ensureSchemaProvisioning(
                adminUrl,
                provisioner.username,
                login,
                sharedDatabaseName(store.name),
              );
              process.stdout.write(
                `runtime login: ${urlFor(adminUrl, login.username)} (password from the store key; as ${store.configPrefix}_SERVER_URL: schema placements without a provisioning login)\n`,
              );
            }
            continue;
          }
          if (dialect !== 'mysql' && dialect !== 'mariadb') continue;
          const logins = storeManifests()
            .filter((store) => store.dialects.includes(dialect))
            .map((store) => runtimeLogin(store.name, storeKeyOf(root, store.name)));
          await ServerRoles.ensureMysqlRuntimeLogins(adminUrl, logins);
          for (const login of logins)
            process.stdout.write(`runtime login: ${urlFor(adminUrl, login.username)} (password from the store key)\n`);
        }
        if (flags.catalogDatabase !== undefined) {
          const catalogServer = adminUrls.find((url) => parseServerUrl(url).dialect === 'postgres');
          if (!catalogServer) throw new UsageError('--catalog-database needs a postgres:// URL in DB_ADMIN_URLS');
          const catalog: ServerLogin = {
            username: flags.catalogLogin,
            ...optionalPassword(passwordFrom('--catalog-password-file', flags.catalogPasswordFile)),
          };
          await ServerRoles.ensureCatalogOwner(catalogServer, flags.catalogDatabase, catalog);
          process.stdout.write(`catalog login: ${urlFor(catalogServer, catalog.username, flags.catalogDatabase)}\n`);
          const storeLogins = STORE_NAMES.map((store) => storeCatalogLogin(store, storeKeyOf(root, store)));
          await ensureStoreCatalogLogins(catalogServer, flags.catalogDatabase, storeLogins);
          for (const login of storeLogins)
            process.stdout.write(
              `store catalog login: ${urlFor(catalogServer, login.username, flags.catalogDatabase)} (password from the store key)\n`,
            );
        }
        return 0;
      }),
    );
}

function optionalPassword(password: string | undefined): { password?: string } {
  return password === undefined ? {} : { password };
}
