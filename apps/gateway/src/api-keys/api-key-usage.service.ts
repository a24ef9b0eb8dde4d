import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiKeyAdminService } from '#polystore/catalog';

const FLUSH_INTERVAL_MS = 30_000;

/**
 * Records when API keys were last used without a write per request: accepted keys are
 * collected in memory and written in one statement every 30 s (and at shutdown), so
 * `lastUsedAt` is accurate to about half a minute per gateway. A failed write is logged and
 * the ids kept for the next flush: losing a "last used" instant never fails a request.
 */
@Injectable()
export class ApiKeyUsage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyUsage.name);
  private pending = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly keys: ApiKeyAdminService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(keyId: string): void {
    this.pending.add(keyId);
  }

  /** Writes the keys used since the last flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const used = this.pending;
    this.pending = new Set();
    try {
      await this.keys.recordUse([...used]);
    } catch (error) {
      for (const keyId of used) this.pending.add(keyId);
      this.logger.warn(`recording API key use failed: ${(error as Error).message}`);
    }
  }
}
