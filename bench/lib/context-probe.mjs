// A store-like NATS responder for bench/context.mjs, run as its own process: Nest's NATS
// transport (PolystoreNatsServer) with two handlers answering a customer-sized view, a read
// (`readOnly`) and a command (its signature claimed in the replay memory first, as a store's
// writes are). Argument: `signed` (checks every signed context, as a store does) or `unsigned`
// (a check that accepts everything: the bus hop without the signature). Prints `ready`, and on
// SIGTERM its CPU time.
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { ContextVerifier, PolystoreNatsServer } from '#polystore/messaging';
import { benchStoreKey, contextSigner } from './context-key.mjs';

const [mode, url, prefix] = process.argv.slice(2);
const view = {
  id: '6f1c1b7e-3a0e-4c43-9d0f-2c8d1f0e9a51',
  name: 'Grace Hopper',
  email: 'grace@navy.example',
  phone: '+1 555 0100',
  createdAt: '2026-12-06T12:00:00.000Z',
};

class ProbeController {
  read() {
    return view;
  }
  touch() {
    return view;
  }
}
MessagePattern('bench.customers.get', { readOnly: true })(
  ProbeController.prototype,
  'read',
  Object.getOwnPropertyDescriptor(ProbeController.prototype, 'read'),
);
MessagePattern('bench.customers.touch')(
  ProbeController.prototype,
  'touch',
  Object.getOwnPropertyDescriptor(ProbeController.prototype, 'touch'),
);
Controller()(ProbeController);
class ProbeModule {}
Module({ controllers: [ProbeController] })(ProbeModule);

const verifier =
  mode === 'signed'
    ? new ContextVerifier('bench-probe', [contextSigner.publicKey], [benchStoreKey])
    : { check: () => undefined, replayWindowMs: 60_000 };
const app = await NestFactory.createMicroservice(ProbeModule, {
  strategy: new PolystoreNatsServer({
    url,
    queue: 'bench-probe',
    subjectPrefix: prefix,
    name: `probe-${mode}`,
    verifier,
  }),
  logger: false,
});
await app.listen();
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  const cpu = process.cpuUsage();
  process.stdout.write(`cpu ${cpu.user + cpu.system}\n`);
  await app.close();
  process.exit(0);
});
