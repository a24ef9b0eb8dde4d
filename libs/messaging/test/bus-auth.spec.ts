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
    // Nobody may listen on every inbox: each service on its own prefix only (the stores for the
    // JetStream acknowledgements of their replay memory). The secure store, which holds PII,
    // publishes nothing but its replay claims, to its own stream, named exactly.
    expect(busPermissions('secure-store').subscribe).toEqual(['*.secure.>', '*.catalog.>', '_INBOX.secure-store.>']);
    expect(busPermissions('secure-store').publish).toEqual([
      '*.replay.secure-store',
      '$JS.API.STREAM.INFO.POLYSTORE_REPLAY_SECURE_STORE',
      '$JS.API.STREAM.CREATE.POLYSTORE_REPLAY_SECURE_STORE',
      '$JS.API.STREAM.UPDATE.POLYSTORE_REPLAY_SECURE_STORE',
    ]);
    // The edge store faces the internet: the only streams it may touch are its own replay memory's.
    expect(busPermissions('edge-store').publish.filter((subject) => subject.startsWith('$JS.'))).toEqual(
      ['INFO', 'CREATE', 'UPDATE'].map((call) => `$JS.API.STREAM.${call}.POLYSTORE_REPLAY_EDGE_STORE`),
    );
    for (const service of BUS_SERVICES) expect(busPermissions(service).subscribe).not.toContain('_INBOX.>');
    const inboxes = BUS_SERVICES.map((service) =>
      busPermissions(service).subscribe.filter((s) => s.startsWith('_INBOX')),
    );
    expect(inboxes).toEqual(BUS_SERVICES.map((service) => [`_INBOX.${service}.>`]));
    expect(BUS_SERVICES.map(busInboxPrefix)).toEqual(BUS_SERVICES.map((service) => `_INBOX.${service}`));
  });

  it('bus auth - the server config lists every service with its own permissions, has no anonymous user', () => {
    const users = BUS_SERVICES.map((service) => ({ service, publicKey: busPublicKeyOf(newBusSeed()) }));
    const config = busServerConfig({ serverName: 'bus', host: '127.0.0.1', port: 4225, storeDir: '/tmp/x', users });
    for (const { publicKey } of users) expect(config).toContain(`nkey: "${publicKey}"`);
    const secure = config.slice(config.indexOf('# secure-store'), config.indexOf('# reliable-store'));
    expect(secure).toContain(
      'publish: { allow: ["*.replay.secure-store", "$JS.API.STREAM.INFO.POLYSTORE_REPLAY_SECURE_STORE", ',
    );
    expect(secure).toContain('subscribe: { allow: ["*.secure.>", "*.catalog.>", "_INBOX.secure-store.>"] }');
    expect(secure).toContain('allow_responses: true');
    expect(config).not.toMatch(/no_auth_user|password/);
    expect(config).toContain('jetstream { store_dir: "/tmp/x" }');
  });
});
