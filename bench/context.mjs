#!/usr/bin/env node
// `npm run bench:context` (after `npm run build`): what signing and verifying the request
// context costs on the bus hop. The same request/reply, side by side in one run: a MessageClient
// (this process) and a PolystoreNatsServer responder (bench/lib/context-probe.mjs, its own
// process) on the machine's NATS, with the context signed (Ed25519) and checked, and without
// (the responder's check accepts everything). A third variant sends a signed command instead of
// a read: the responder claims its signature in the replay memory shared by a store's replicas
// (a JetStream publish) before it runs. Rounds alternate; medians are reported.
//
// The bus hop alone is the worst case: a real read adds the gateway's HTTP work, the data router,
// decryption and the audit on top of the same signature, so the share is smaller there.
//
// Variables: NATS_URL (nats://127.0.0.1:4222), BENCH_CONTEXT_ROUNDS (3), BENCH_CONTEXT_DURATION_S
// (10), BENCH_CONTEXT_CONCURRENCY (32), BENCH_RESULTS_DIR (bench/results).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connectNats, defineContract, MessageClient } from '#polystore/messaging';
import { z } from 'zod';
import { ROOT } from './lib/config.mjs';
import { contextSigner } from './lib/context-key.mjs';
import { fileStamp } from './lib/report.mjs';

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const rounds = Number(process.env.BENCH_CONTEXT_ROUNDS ?? 3);
const durationS = Number(process.env.BENCH_CONTEXT_DURATION_S ?? 10);
const concurrency = Number(process.env.BENCH_CONTEXT_CONCURRENCY ?? 32);
const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
const prefix = `bctx${randomBytes(3).toString('hex')}`;

const read = defineContract({
  pattern: 'bench.customers.get',
  service: 'bench-probe',
  scope: 'system',
  request: z.object({ id: z.string() }),
  response: z.unknown(),
  readOnly: true,
});
const command = defineContract({ ...read, pattern: 'bench.customers.touch', readOnly: false });
const VARIANTS = ['unsigned', 'signed', 'command'];

function startProbe(mode) {
  const child = spawn(process.execPath, [join(ROOT, 'bench/lib/context-probe.mjs'), mode, natsUrl, prefix], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`probe (${mode}) exited with ${code}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', () => resolve(Number(/cpu (\d+)/.exec(out)?.[1] ?? NaN)));
      child.kill('SIGTERM');
    });
  return { ready, stop };
}

async function measure(mode) {
  const probe = startProbe(mode === 'unsigned' ? 'unsigned' : 'signed');
  await probe.ready;
  const nc = await connectNats({ url: natsUrl, name: `bench-context-${mode}` });
  const client = new MessageClient(nc, {
    subjectPrefix: prefix,
    defaultTimeoutMs: 5_000,
    ...(mode === 'unsigned' ? {} : { signer: contextSigner }),
  });
  const contract = mode === 'command' ? command : read;
  const payload = { id: '6f1c1b7e-3a0e-4c43-9d0f-2c8d1f0e9a51' };
  // Warm-up (JIT, connections), not recorded.
  await Promise.all(Array.from({ length: 2_000 }, () => client.request(contract, payload)));
  let done = 0;
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + durationS * 1_000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        try {
          await client.request(contract, payload);
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1_000;
  const clientCpu = process.cpuUsage(cpuBefore);
  await nc.drain();
  const serverCpuUs = await probe.stop();
  return {
    mode,
    requests: done,
    errors,
    perSecond: done / elapsedS,
    clientCpuUsPerRequest: (clientCpu.user + clientCpu.system) / done,
    // The responder's whole life (warm-up included) over the measured requests plus the warm-up.
    serverCpuUsPerRequest: serverCpuUs / (done + 2_000),
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = [];
for (let round = 0; round < rounds; round++) {
  for (const mode of [...VARIANTS.slice(round % 3), ...VARIANTS.slice(0, round % 3)]) {
    const result = await measure(mode);
    results.push({ round, ...result });
    console.log(
      `round ${round + 1} ${mode.padEnd(8)} ${Math.round(result.perSecond)} req/s, errors ${result.errors}, ` +
        `client ${Math.round(result.clientCpuUsPerRequest)} µs CPU/req, responder ${Math.round(result.serverCpuUsPerRequest)} µs CPU/req`,
    );
  }
}

const summary = Object.fromEntries(
  VARIANTS.map((mode) => {
    const of = results.filter((r) => r.mode === mode);
    return [
      mode,
      {
        perSecond: median(of.map((r) => r.perSecond)),
        clientCpuUs: median(of.map((r) => r.clientCpuUsPerRequest)),
        serverCpuUs: median(of.map((r) => r.serverCpuUsPerRequest)),
        errors: of.reduce((n, r) => n + r.errors, 0),
      },
    ];
  }),
);
const ratio = summary.signed.perSecond / summary.unsigned.perSecond;
const signCostUs = summary.signed.clientCpuUs - summary.unsigned.clientCpuUs;
const verifyCostUs = summary.signed.serverCpuUs - summary.unsigned.serverCpuUs;
const commandRatio = summary.command.perSecond / summary.signed.perSecond;
const claimCostUs = summary.command.serverCpuUs - summary.signed.serverCpuUs;
const when = new Date();
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, load ${os
  .loadavg()
  .map((n) => n.toFixed(2))
  .join(' / ')}`;
const markdown = `# Signed request context on the bus hop

Run ${when.toISOString()} on ${machine}. NATS ${natsUrl}, ${concurrency} requests in flight, ${rounds} rounds of ${durationS} s per variant, alternating; medians.

| variant | req/s | client CPU µs/req | responder CPU µs/req | errors |
| --- | --- | --- | --- | --- |
| unsigned (check accepts all) | ${Math.round(summary.unsigned.perSecond)} | ${Math.round(summary.unsigned.clientCpuUs)} | ${Math.round(summary.unsigned.serverCpuUs)} | ${summary.unsigned.errors} |
| signed read (ticket + HMAC per message, replica's replay memory) | ${Math.round(summary.signed.perSecond)} | ${Math.round(summary.signed.clientCpuUs)} | ${Math.round(summary.signed.serverCpuUs)} | ${summary.signed.errors} |
| signed command (the above + a claim in the shared replay memory) | ${Math.round(summary.command.perSecond)} | ${Math.round(summary.command.clientCpuUs)} | ${Math.round(summary.command.serverCpuUs)} | ${summary.command.errors} |

**signed / unsigned throughput on the bare hop: ${ratio.toFixed(3)}×**; the signature costs the sender about ${Math.round(signCostUs)} µs and the store about ${Math.round(verifyCostUs)} µs of CPU per request.
A command's claim in the shared replay memory: **command / signed read ${commandRatio.toFixed(3)}×** on the bare hop, about ${Math.round(claimCostUs)} µs more of the store's CPU per command (and a JetStream round trip; the NATS server's CPU is not counted).
`;
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${fileStamp(when)}-context-signature.md`);
writeFileSync(file, markdown);
writeFileSync(
  file.replace(/\.md$/, '.json'),
  JSON.stringify(
    { when, machine, natsUrl, concurrency, rounds, durationS, results, summary, ratio, commandRatio },
    null,
    2,
  ),
);
copyFileSync(file, join(resultsDir, 'latest-context-signature.md'));
console.log(`\n${markdown}\nwritten ${file}`);
