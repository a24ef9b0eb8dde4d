import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { SagaDefinition } from './definition.js';
import { SagaOrchestrator, type SagaOrchestratorOptions } from './saga-orchestrator.js';

@Injectable()
class SagaLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(SagaOrchestrator) private readonly orchestrator: SagaOrchestrator) {}

  onApplicationBootstrap(): void {
    this.orchestrator.startRecovery();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.orchestrator.stop();
  }
}

/**
 * The orchestrator of one process, on the system database (provide it under
 * `SAGA_DATA_SOURCE`, e.g. `{ provide: SAGA_DATA_SOURCE, useExisting: SYSTEM_DATA_SOURCE }`),
 * with the given definitions registered and its recovery sweeper running.
 */
@Module({})
export class SagaModule {
  static forRoot(
    options: SagaOrchestratorOptions & {
      dataSource: InjectionToken;
      definitions?: ReadonlyArray<SagaDefinition<never>>;
    },
  ): DynamicModule {
    return {
      module: SagaModule,
      global: true,
      providers: [
        {
          provide: SagaOrchestrator,
          inject: [options.dataSource],
          useFactory: (db: DataSource) => {
            const orchestrator = new SagaOrchestrator(db, options);
            for (const definition of options.definitions ?? []) orchestrator.register(definition);
            return orchestrator;
          },
        },
        SagaLifecycle,
      ],
      exports: [SagaOrchestrator],
    };
  }
}
