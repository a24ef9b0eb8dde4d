import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import type { ContextSigner } from './context-signature.js';
import { MessageClient } from './message-client.js';
import { connectNats, inboxPrefixOf, type NatsTls } from './nats-connection.js';

/** Injection token of the process's NATS connection. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

export interface MessagingModuleOptions {
  readonly url: string;
  /** Name shown by the NATS server. */
  readonly name: string;
  /** The service's NKey seed on an authenticated bus (NATS_NKEY_SEED). */
  readonly nkeySeed?: string;
  /** TLS to the NATS servers (NATS_TLS_CA); see {@link NatsSettings}. */
  readonly tls?: NatsTls;
  readonly subjectPrefix: string;
  readonly defaultTimeoutMs?: number;
  readonly metrics?: Registry;
  /** Signs every request's context (the gateway, the CLI); stores that only answer need none. */
  readonly signer?: ContextSigner;
}

@Injectable()
class NatsConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain().catch((error: unknown) => this.logger.warn(`NATS drain failed: ${(error as Error).message}`));
  }
}

/**
 * Provides one NATS connection per process and a {@link MessageClient} on it; drains the
 * connection at shutdown (after the HTTP server and the microservice transports have stopped).
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: NATS_CONNECTION,
          useFactory: () =>
            connectNats({ url: options.url, name: options.name, nkeySeed: options.nkeySeed, tls: options.tls }),
        },
        {
          provide: MessageClient,
          inject: [NATS_CONNECTION],
          useFactory: (nc: NatsConnection) =>
            new MessageClient(nc, {
              subjectPrefix: options.subjectPrefix,
              defaultTimeoutMs: options.defaultTimeoutMs ?? 5_000,
              metrics: options.metrics,
              signer: options.signer,
              inboxPrefix: inboxPrefixOf(options.name),
            }),
        },
        NatsConnectionCloser,
      ],
      exports: [NATS_CONNECTION, MessageClient],
    };
  }
}
