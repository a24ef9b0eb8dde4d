import { describe, expect, it } from '@jest/globals';
import {
  BUS_SERVICES,
  busInboxPrefix,
  busPermissions,
  busPublicKeyOf,
  busServerConfig,
  newBusSeed,
} from '#polystore/messaging';

describe('bus auth - users and permissions of the authenticated bus', () => {
  it('bus auth - a seed is a user NKey seed whose public key is a user key; seeds differ', () => {
    const seed = newBusSeed();
    expect(seed).toMatch(/^SU[A-Z2-7]{56}$/);
    expect(busPublicKeyOf(seed)).toMatch(/^U[A-Z2-7]{55}$/);
    expect(newBusSeed()).not.toBe(seed);
    expect(() => busPublicKeyOf('SUNOTASEED')).toThrow();
  });

  it('bus auth - no store may send to another store, and only callers may read inbox replies', () => {
    for (const store of ['secure-store', 'reliable-store', 'edge-store'] as const) {
      const { publish, subscribe, allowResponses } = busPermissions(store);
      const own = store.replace('-store', '');
      expect(allowResponses).toBe(true);
      for (const other of ['secure', 'reliable', 'edge'].filter((name) => name !== own)) {
        expect(publish.some((subject) => subject.startsWith(`*.${other}.`))).toBe(false);
        expect(subscribe.some((subject) => subject.startsWith(`*.${other}.`))).toBe(false);
      }
      expect(subscribe).toContain(`*.${own}.>`);
    }
    // Nobody may listen on every inbox: each caller on its own prefix only. The reliable store
    // listens on its own for its JetStream acknowledgements; the secure store, which holds PII,
    // on its own subjects only.
    expect(busPermissions('secure-store').subscribe).toEqual(['*.secure.>', '*.catalog.>']);
    for (const service of BUS_SERVICES) expect(busPermissions(service).subscribe).not.toContain('_INBOX.>');
    const inboxes = BUS_SERVICES.map((service) =>
      busPermissions(service).subscribe.filter((s) => s.startsWith('_INBOX')),
    );
    expect(inboxes).toEqual([['_INBOX.gateway.>'], ['_INBOX.cli.>'], [], ['_INBOX.reliable-store.>'], []]);
    expect(BUS_SERVICES.map(busInboxPrefix)).toEqual(BUS_SERVICES.map((service) => `_INBOX.${service}`));
  });

  it('bus auth - the server config lists every service, denies publishing to a store that publishes nothing, has no anonymous user', () => {
    const users = BUS_SERVICES.map((service) => ({ service, publicKey: busPublicKeyOf(newBusSeed()) }));
    const config = busServerConfig({ serverName: 'bus', host: '127.0.0.1', port: 4225, storeDir: '/tmp/x', users });
    for (const { publicKey } of users) expect(config).toContain(`nkey: "${publicKey}"`);
    const secure = config.slice(config.indexOf('# secure-store'), config.indexOf('# reliable-store'));
    expect(secure).toContain('publish: { deny: [">"] }');
    expect(secure).toContain('allow_responses: true');
    expect(config).not.toMatch(/no_auth_user|password/);
    expect(config).toContain('jetstream { store_dir: "/tmp/x" }');
  });
});
