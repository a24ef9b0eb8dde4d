import { Contracts, type MessageClient, type ResponseOf } from '#polystore/messaging';

/**
 * A fresh credential of the generation a saga issued (its output's `generation`), to show once
 * after a registration or a rotation; null when a later rotation replaced that generation, or
 * the device was deleted since. A saga logged by an earlier version, without a generation, gets
 * the device's current one.
 */
export function issuedCredential(
  messages: MessageClient,
  deviceId: string,
  sagaOutput: unknown,
): Promise<ResponseOf<typeof Contracts.edge.devices.credential> | null> {
  const generation = (sagaOutput as { generation?: number } | null)?.generation;
  return messages
    .request(Contracts.edge.devices.credential, { deviceId, ...(generation === undefined ? {} : { generation }) })
    .catch((error: unknown) => {
      const code = (error as { code?: string }).code;
      if (code === 'CREDENTIAL_SUPERSEDED' || code === 'DEVICE_NOT_FOUND') return null;
      throw error;
    });
}
