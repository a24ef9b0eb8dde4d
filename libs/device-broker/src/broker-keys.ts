import { hkdfSync } from 'node:crypto';
import { NKey, type NKeyRole } from './nkey.js';

/**
 * Every key of the device broker, derived from one 32-byte secret (`DEVICE_BROKER_KEY`), so the
 * server configuration (`polystore broker config`) and each edge-store replica agree without
 * exchanging key files:
 * - `operator`: signs the account JWTs (the server trusts it);
 * - `systemAccount` / `systemUser`: the server's system account, used to push account updates;
 * - `devicesAccount`: where devices, the telemetry stream and the edge store live;
 * - `deviceSigner`: the devices account's signing key, which signs device credentials;
 * - `ingestUser`: the edge store's own connection.
 * Device keys come from {@link BrokerKeys.device}, one per device credential generation.
 */
export class BrokerKeys {
  readonly operator: NKey;
  readonly systemAccount: NKey;
  readonly systemUser: NKey;
  readonly devicesAccount: NKey;
  readonly deviceSigner: NKey;
  readonly ingestUser: NKey;

  constructor(private readonly secret: Buffer) {
    if (secret.length < 32) throw new Error('DEVICE_BROKER_KEY must be at least 32 bytes');
    this.operator = this.derive('operator', 'operator');
    this.systemAccount = this.derive('account', 'system-account');
    this.systemUser = this.derive('user', 'system-user');
    this.devicesAccount = this.derive('account', 'devices-account');
    this.deviceSigner = this.derive('account', 'devices-signer');
    this.ingestUser = this.derive('user', 'ingest-user');
  }

  /** The user key of one credential generation of one device (only its public part is ever used). */
  device(tenant: string, deviceId: string, generation: number): NKey {
    return this.derive('user', `device:${tenant}:${deviceId}:${generation}`);
  }

  private derive(role: NKeyRole, purpose: string): NKey {
    const seed = Buffer.from(
      hkdfSync('sha256', this.secret, Buffer.alloc(0), `polystore/device-broker/${purpose}`, 32),
    );
    return NKey.fromRawSeed(role, seed);
  }
}
