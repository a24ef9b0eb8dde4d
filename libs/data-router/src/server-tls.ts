import { DataRouterException } from './data-router.exception.js';

/**
 * How a connection to a PostgreSQL/MySQL/MariaDB server uses TLS, libpq's modes:
 * - `require`: encrypted, the server's certificate is not checked (protects against a passive
 *   listener only);
 * - `verify-ca`: encrypted, the certificate's chain is checked against the CA;
 * - `verify-full`: `verify-ca` plus the server's host name (or IP address) must be in the
 *   certificate.
 * A server URL without TLS parameters connects in plaintext (`sslmode=disable`).
 */
export type TlsMode = 'require' | 'verify-ca' | 'verify-full';

/** The TLS settings of a server URL; absent from a {@link ServerAddress} when TLS is off. */
export interface ServerTls {
  readonly mode: TlsMode;
  /**
   * PEM file of the CA(s) the server's chain is checked against (`sslrootcert`); read when a
   * connection is set up, never per query. Absent: Node's bundled public CAs.
   */
  readonly caFile?: string;
}

/** libpq's `sslmode` values (MySQL's `ssl-mode` spellings map onto them). */
const LIBPQ_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
const MYSQL_MODES: Record<string, (typeof LIBPQ_MODES)[number]> = {
  DISABLED: 'disable',
  REQUIRED: 'require',
  VERIFY_CA: 'verify-ca',
  VERIFY_IDENTITY: 'verify-full',
};

/** The query parameters a server URL accepts, per engine family (values: the canonical name). */
const PARAMETERS: Record<'postgres' | 'mysql', Record<string, 'sslmode' | 'sslrootcert'>> = {
  postgres: { sslmode: 'sslmode', sslrootcert: 'sslrootcert' },
  mysql: { sslmode: 'sslmode', sslrootcert: 'sslrootcert', 'ssl-mode': 'sslmode', 'ssl-ca': 'sslrootcert' },
};

const invalid = (what: string) => DataRouterException.invalidPlacement(`server URL parameter ${what}`);

/**
 * The TLS settings of a server URL's query (`?sslmode=verify-full&sslrootcert=/etc/ca.pem`).
 * PostgreSQL, MySQL and MariaDB URLs accept libpq's `sslmode` (`disable`, `require`, `verify-ca`,
 * `verify-full`) and `sslrootcert` (a PEM CA file); MySQL/MariaDB URLs also MySQL's `ssl-mode`
 * (`DISABLED`, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) and `ssl-ca`. `sslrootcert` alone
 * means `verify-full`; with `disable` or `require` it is refused (it would check nothing).
 * MongoDB URLs take no parameters. Anything else throws `INVALID_PLACEMENT` naming the parameter
 * (never its value, and never the URL's credentials). The CA file is not read here.
 */
export function parseTlsParameters(
  query: URLSearchParams,
  dialect: 'postgres' | 'mysql' | 'mariadb' | 'mongodb',
): ServerTls | undefined {
  const names = [...query.keys()];
  if (names.length === 0) return undefined;
  if (dialect === 'mongodb') throw invalid(`${names[0]!}: mongodb:// server URLs take no parameters`);
  const accepted = PARAMETERS[dialect === 'postgres' ? 'postgres' : 'mysql'];
  const values: Partial<Record<'sslmode' | 'sslrootcert', string>> = {};
  for (const [name, value] of query) {
    const canonical = Object.hasOwn(accepted, name) ? accepted[name] : undefined;
    if (!canonical) throw invalid(`${name} is not supported (accepted: ${Object.keys(accepted).join(', ')})`);
    if (values[canonical] !== undefined) throw invalid(`${name}: ${canonical} is given more than once`);
    values[canonical] = name === 'ssl-mode' ? MYSQL_MODES[value.toUpperCase()] : value;
    if (name === 'ssl-mode' && values[canonical] === undefined)
      throw invalid(`ssl-mode must be one of ${Object.keys(MYSQL_MODES).join(', ')}`);
  }
  const mode = values.sslmode ?? (values.sslrootcert === undefined ? 'disable' : 'verify-full');
  if (!(LIBPQ_MODES as readonly string[]).includes(mode))
    throw invalid(`sslmode must be one of ${LIBPQ_MODES.join(', ')}`);
  const caFile = values.sslrootcert;
  if (caFile !== undefined && caFile.trim() === '') throw invalid('sslrootcert must name a PEM file');
  if (caFile !== undefined && (mode === 'disable' || mode === 'require'))
    throw invalid('sslrootcert needs sslmode=verify-ca or verify-full');
  if (mode === 'disable') return undefined;
  return caFile === undefined ? { mode: mode as TlsMode } : { mode: mode as TlsMode, caFile };
}

/**
 * The canonical query of TLS settings (`sslmode=...&sslrootcert=...`, empty without TLS): what
 * the catalog keeps of a server URL's parameters, so a placement on a TLS server stays TLS.
 */
export function tlsQuery(tls: ServerTls | undefined): string {
  if (!tls) return '';
  const query = new URLSearchParams({ sslmode: tls.mode });
  if (tls.caFile !== undefined) query.set('sslrootcert', tls.caFile);
  return query.toString();
}
