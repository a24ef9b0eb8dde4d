import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A server's certificate and key (PEM files) signed by a {@link TestCa}. */
export interface ServerCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A self-signed test CA made with `openssl` in `dir` (P-256 keys, valid two days), which signs
 * server certificates for the names a test chooses (`IP:127.0.0.1,DNS:localhost`).
 */
export class TestCa {
  private constructor(
    readonly dir: string,
    /** The CA's certificate (what clients are given as `sslrootcert` / NATS_TLS_CA_FILE). */
    readonly caFile: string,
    private readonly keyFile: string,
  ) {}

  static create(dir: string, name = 'ca'): TestCa {
    mkdirSync(dir, { recursive: true });
    const caFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}.key`);
    openssl([
      ...['req', '-x509', ...EC_KEY, '-days', '2', '-subj', `/CN=polystore test ${name}`],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ...['-keyout', keyFile, '-out', caFile],
    ]);
    return new TestCa(dir, caFile, keyFile);
  }

  /** A server certificate for `subjectAltName` (e.g. `IP:127.0.0.1,DNS:localhost`), signed by this CA. */
  issue(name: string, subjectAltName: string): ServerCertificate {
    const keyFile = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.pem`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(
      ext,
      `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(['req', '-new', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr]);
    openssl([
      ...['x509', '-req', '-in', csr, '-CA', this.caFile, '-CAkey', this.keyFile, '-CAcreateserial'],
      ...['-days', '2', '-extfile', ext, '-out', certFile],
    ]);
    return { certFile, keyFile };
  }
}
