import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { SecureStoreException } from '../secure-store.exception.js';
import { DeviceCredentialLedger } from './device-credential.ledger.js';

const D = Contracts.secure.devices;

/** Reads of the device credential history (written by the registration, rotation and deletion sagas). */
@Controller()
export class DeviceCredentialsHandler {
  constructor(private readonly ledger: DeviceCredentialLedger) {}

  @Handles(D.credentials)
  async credentials(
    @Payload() request: ParsedRequestOf<typeof D.credentials>,
  ): Promise<ResponseOf<typeof D.credentials>> {
    const history = await this.ledger.history(request.deviceId);
    if (history.length === 0) throw SecureStoreException.deviceNotFound(request.deviceId);
    return {
      items: history.map((g) => ({
        generation: g.generation,
        issuedAt: g.issuedAt.toISOString(),
        revokedAt: g.revokedAt?.toISOString() ?? null,
      })),
    };
  }
}
