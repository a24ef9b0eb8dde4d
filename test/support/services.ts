/**
 * Where the integration and e2e tests find the real servers: the contract's defaults (the
 * loopback services this machine runs), overridable by the same variables as the apps.
 */
export const TestServices = {
  systemDbUrl: process.env.TEST_SYSTEM_DB_URL ?? 'postgres://root@127.0.0.1:5432/polystore_test_system',
  postgresUrl: process.env.SECURE_SERVER_URL ?? 'postgres://root@127.0.0.1:5432',
  mariadbUrl: process.env.RELIABLE_SERVER_URL ?? 'mysql://root@127.0.0.1:3306',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  /** The gateway's shared rate-limit counters (REDIS_URL). */
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
} as const;
