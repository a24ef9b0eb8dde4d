#!/usr/bin/env node
// Round trips of the saga log per saga: runs BENCH_SAGAS (200) sagas of four steps whose actions
// do nothing (so only the log's own work is counted), one after the other, with an orchestrator
// on a catalog of its own, and counts the statements the log sends to the system database (every
// one is a round trip and, for writes, a commit). Writes bench/results/<stamp>-saga-round-trips.md
// and latest-saga-round-trips.md.
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { openSystemDatabase } from '#polystore/catalog';
import { defineSaga, SAGA_MIGRATIONS, SagaOrchestrator, SagaState } from '#polystore/saga';
import pg from 'pg';
import { writeReport } from './lib/report.mjs';

const SAGAS = Number(process.env.BENCH_SAGAS ?? 200);
const server = process.env.BENCH_PG_URL ?? 'postgres://root@127.0.0.1:5432';
const database = `ps_bench_rt_${randomUUID().slice(0, 8)}`;
const admin = new pg.Client({ connectionString: `${server}/postgres` });
await admin.connect();
await admin.query(`CREATE DATABASE "${database}"`);
try {
  const db = await openSystemDatabase({
    url: `${server}/${database}`,
    poolSize: 2,
    applicationName: 'bench-saga-round-trips',
    extraMigrations: [...SAGA_MIGRATIONS],
  });
  let statements = 0;
  const query = db.query.bind(db);
  db.query = (...args) => {
    statements++;
    return query(...args);
  };
  const orchestrator = new SagaOrchestrator(db, {
    owner: 'bench',
    leaseMs: 30_000,
    sweepIntervalMs: 0,
    maxConcurrentRecoveries: 1,
  });
  const noop = (name) => ({ name, action: async () => ({ ok: true }), compensation: async () => undefined });
  const definition = defineSaga({
    name: 'round-trips',
    version: 1,
    deadlineMs: 60_000,
    locks: (input) => [`thing:${input.n}`],
    steps: [
      noop('registry'),
      noop('credential'),
      noop('provision'),
      { name: 'activate', action: async () => ({ ok: true }) },
    ],
  });
  const started = Date.now();
  for (let n = 0; n < SAGAS; n++) {
    const id = await orchestrator.start(definition, { n });
    const done = await orchestrator.waitFor(id, 10_000);
    if (done.state !== SagaState.SUCCEEDED) throw new Error(`saga ${id} ended ${done.state}`);
  }
  const ms = Date.now() - started;
  // waitFor reads the saga once it is done (one statement per saga): the caller's, not the log's.
  const perSaga = ((statements - SAGAS) / SAGAS).toFixed(2);
  const line = `sagas: ${SAGAS}; statements to the system database per saga: ${perSaga} (plus 1 read by the caller waiting for it); ${(ms / SAGAS).toFixed(1)} ms per saga, one at a time`;
  console.log(line);
  const report = [
    '# Saga log round trips per saga',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} x ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; PostgreSQL at ${new URL(server).host}.`,
    `${SAGAS} sagas of four steps whose actions do nothing (three compensable, one forward-only, one semantic lock), one after the other: only the saga log's statements are counted.`,
    '',
    `**${perSaga} statements to the system database per saga** (each one round trip; the writes one commit each), plus the read of the caller that waits for the outcome; ${(ms / SAGAS).toFixed(1)} ms per saga.`,
    '',
  ].join('\n');
  writeReport('saga-round-trips', report);
  await orchestrator.stop();
  await db.destroy();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
}
