import { Inject, Injectable, NotFoundException, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { DataSource } from 'typeorm';
import { TenantDataSources } from './tenant-data-sources.js';

/**
 * The naive tenant connection: a REQUEST-scoped provider, so Nest builds a new instance (and a
 * new instance of everything that depends on it, the controller included) for every request. It
 * reads the tenant from the Host header (`<slug>.<domain>`) and hands out that tenant's
 * DataSource from the registry.
 */
@Injectable({ scope: Scope.REQUEST })
export class TenantConnection {
  constructor(
    @Inject(REQUEST) private readonly request: FastifyRequest,
    private readonly registry: TenantDataSources,
  ) {}

  /** The tenant this request is for: the first label of its Host header. */
  get tenant(): string {
    const host = this.request.headers.host ?? '';
    return host.split('.')[0]!.toLowerCase();
  }

  /** The tenant's DataSource (created on its first request); 404 for an unknown tenant. */
  async dataSource(): Promise<DataSource> {
    const dataSource = this.registry.get(this.tenant);
    if (!dataSource) throw new NotFoundException('unknown tenant');
    return dataSource;
  }
}
