import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busAuthenticator, busInboxPrefix, connectNats, natsTlsOption } from '#polystore/messaging';
import { PrivateBus } from '../../../test/support/bus.js';
import { TestCa } from '../../../test/support/tls-certs.js';

/**
 * The project's bus (`polystore bus config --tls-cert --tls-key`, as scripts/bus.sh writes it with
 * BUS_TLS_CERT/BUS_TLS_KEY) on a private nats-server: NKey users and TLS required.
 */
describe('NATS over TLS (a private bus with a self-signed CA)', () => {
  let dir: string;
  let ca: TestCa;
  let otherCa: TestCa;
  let bus: PrivateBus;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polystore-tls-nats-'));
    ca = TestCa.create(dir);
    otherCa = TestCa.create(dir, 'other-ca');
    bus = await PrivateBus.create({ tls: ca.issue('bus', 'IP:127.0.0.1,DNS:localhost') });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await bus?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A connection as the given service, failing at once instead of retrying forever (connectNats would). */
  async function once(url: string, service: 'gateway' | 'secure-store', caFile?: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: url,
      name: `tls-test-${service}`,
      maxReconnectAttempts: 0,
      authenticator: busAuthenticator(bus.seedOf(service)),
      inboxPrefix: busInboxPrefix(service),
      ...natsTlsOption(url, caFile === undefined ? undefined : { caFile }),
    });
    open.push(nc);
    return nc;
  }

  it('nats-tls - with the CA, a request and its reply cross the TLS bus', async () => {
    // connectNats is what every app uses (NATS_TLS_CA_FILE gives it the CA's PEM).
    const responder = await connectNats({
      url: bus.url,
      name: 'tls-test-responder',
      nkeySeed: bus.seedOf('secure-store'),
      tls: { caFile: ca.caFile },
    });
    open.push(responder);
    const subscription = responder.subscribe('ps.secure.tls-ping', {
      callback: (_error, msg) => {
        msg.respond(`pong:${msg.string()}`);
      },
    });
    await responder.flush();
    const requester = await once(bus.url, 'gateway', ca.caFile);
    const reply = await requester.request('ps.secure.tls-ping', 'hello', { timeout: 5_000 });
    expect(reply.string()).toBe('pong:hello');
    expect(requester.info?.tls_required).toBe(true);
    subscription.unsubscribe();
  });

  it('nats-tls - a nats:// URL with the CA requires TLS as well (and gets it)', async () => {
    const nc = await once(`nats://127.0.0.1:${bus.port}`, 'gateway', ca.caFile);
    await expect(nc.flush()).resolves.toBeUndefined();
  });

  it('nats-tls - without the CA the server certificate does not verify', async () => {
    await expect(once(bus.url, 'gateway')).rejects.toThrow(/unable to verify the first certificate/);
  });

  it('nats-tls - with another CA the server certificate does not verify', async () => {
    await expect(once(bus.url, 'gateway', otherCa.caFile)).rejects.toThrow(/unable to verify the first certificate/);
  });

  it('nats-tls - a CA file that cannot be read is an error naming it', () => {
    expect(() => natsTlsOption(bus.url, { caFile: join(dir, 'missing.pem') })).toThrow(
      /NATS TLS CA file .*missing\.pem cannot be read \(ENOENT\)/,
    );
  });
});
