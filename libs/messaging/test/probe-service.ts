// The probe service both messaging suites run: contracts, a handler, a microservice on any URL.
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { CodedError, ErrorKind } from '#polystore/platform';
import {
  defineContract,
  Handles,
  type ContextVerifier,
  PolystoreNatsServer,
  RpcErrorFilter,
  type ParsedRequestOf,
} from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { z } from 'zod';
import { testContextVerifier } from '../../../test/support/context-keys.js';

export const service = 'probe-store';
export const Probe = {
  whoami: defineContract({
    pattern: 'probe.whoami',
    service,
    readOnly: true,
    scope: 'tenant',
    request: z.object({ n: z.number().int() }).strict(),
    response: z.object({
      tenant: z.string(),
      correlationId: z.string(),
      actor: z.string().nullable(),
      deadline: z.number(),
      instance: z.string(),
    }),
  }),
  fail: defineContract({
    pattern: 'probe.fail',
    service,
    scope: 'system',
    request: z.object({ coded: z.boolean() }),
    response: z.object({}),
  }),
  slow: defineContract({
    pattern: 'probe.slow',
    service,
    scope: 'system',
    request: z.object({ ms: z.number() }),
    response: z.object({ slept: z.number() }),
  }),
  nobody: defineContract({
    pattern: 'probe.nobody',
    service: 'ghost-store',
    scope: 'system',
    request: z.object({}),
    response: z.object({}),
  }),
};

/** Calls that reached a handler (a refused message must not). */
export const calls = { slow: 0, whoami: 0 };

function probeController(instance: string) {
  @Controller()
  class ProbeController {
    @Handles(Probe.whoami)
    whoami(@Payload() _request: ParsedRequestOf<typeof Probe.whoami>) {
      calls.whoami++;
      const context = RequestContextStore.current()!;
      return {
        tenant: RequestContextStore.requireTenant(),
        correlationId: context.correlationId,
        actor: context.actor ?? null,
        deadline: context.deadline,
        instance,
      };
    }

    @Handles(Probe.fail)
    fail(@Payload() request: ParsedRequestOf<typeof Probe.fail>) {
      if (request.coded)
        throw new CodedError('THING_CONFLICT', ErrorKind.CONFLICT, 'the thing conflicts', { thing: 1 });
      throw new Error('SELECT secret FROM internals -- must never leave the store');
    }

    @Handles(Probe.slow)
    async slow(@Payload() request: ParsedRequestOf<typeof Probe.slow>) {
      calls.slow++;
      await new Promise((resolve) => setTimeout(resolve, request.ms));
      return { slept: request.ms };
    }
  }
  return ProbeController;
}

/** Starts one probe instance (queue group `probe-store`) on `url` (NATS or inproc://). */
export async function startProbeServer(
  url: string,
  prefix: string,
  instance: string,
  verifier: ContextVerifier = testContextVerifier(service),
): Promise<INestMicroservice> {
  @Module({ controllers: [probeController(instance)] })
  class ProbeModule {}
  const app = await NestFactory.createMicroservice(ProbeModule, {
    strategy: new PolystoreNatsServer({
      url,
      queue: service,
      subjectPrefix: prefix,
      name: instance,
      verifier,
    }),
    logger: false,
  });
  app.useGlobalFilters(new RpcErrorFilter());
  await app.listen();
  return app;
}
