import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import {
  ContextSigner,
  ContextVerifier,
  MessagingErrorCode,
  SignatureHeader,
  contextPublicKeyOf,
  newStoreContextKey,
} from '#polystore/messaging';

const subject = 'ps.secure.customers.get';
const SECURE = 'secure-store';
const EDGE = 'edge-store';

function signed(
  signer: ContextSigner,
  now: number,
  service = SECURE,
  replyPrefix?: string,
): { headers: MsgHdrs; body: Buffer } {
  const headers = natsHeaders();
  headers.set('Ps-Correlation-Id', randomBytes(8).toString('hex'));
  headers.set('Ps-Deadline', String(now + 5_000));
  headers.set('Ps-Tenant', 'acme');
  const body = Buffer.from(
    JSON.stringify({ pattern: 'secure.customers.get', data: { id: 1 }, id: randomBytes(6).toString('hex') }),
  );
  signer.sign(subject, service, headers, body, now, replyPrefix);
  return { headers, body };
}

describe('context signature - Ed25519-signed tickets, HMAC per message', () => {
  const secureKey = newStoreContextKey();
  const edgeKey = newStoreContextKey();
  const storeKeys: Record<string, string> = { [SECURE]: secureKey.publicKey, [EDGE]: edgeKey.publicKey };
  const currentSeed = randomBytes(32);
  const current = new ContextSigner(currentSeed, (service) => storeKeys[service]);
  const next = new ContextSigner(randomBytes(32), (service) => storeKeys[service]);
  const secureVerifier = (senders = [current.publicKey], own = [secureKey.privateKey]) =>
    new ContextVerifier(SECURE, senders, own);

  it('context signature - the public key of a seed is what the signer publishes; key ids differ per key', () => {
    expect(contextPublicKeyOf(currentSeed)).toBe(current.publicKey);
    expect(Buffer.from(current.publicKey, 'base64')).toHaveLength(32);
    expect(current.keyId).not.toBe(next.keyId);
  });

  it('context signature - a gateway key rotation: both keys accepted during the overlap, then only the new one', () => {
    const now = Date.now();
    const overlap = secureVerifier([current.publicKey, next.publicKey]);
    for (const signer of [current, next]) {
      const { headers, body } = signed(signer, now);
      expect(overlap.check(subject, headers, body, now)).toBeUndefined();
    }
    const after = secureVerifier([next.publicKey]);
    const old = signed(current, now);
    expect(after.check(subject, old.headers, old.body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    const fresh = signed(next, now);
    expect(after.check(subject, fresh.headers, fresh.body, now)).toBeUndefined();
  });

  it('context signature - a store key rotation: the store opens tickets sealed to its old and its new key', () => {
    const now = Date.now();
    const newSecureKey = newStoreContextKey();
    const toNew = new ContextSigner(currentSeed, (service) =>
      service === SECURE ? newSecureKey.publicKey : undefined,
    );
    const both = secureVerifier([current.publicKey], [secureKey.privateKey, newSecureKey.privateKey]);
    for (const signer of [current, toNew]) {
      const { headers, body } = signed(signer, now);
      expect(both.check(subject, headers, body, now)).toBeUndefined();
    }
    const onlyOld = secureVerifier();
    const { headers, body } = signed(toNew, now);
    expect(onlyOld.check(subject, headers, body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
  });

  it('context signature - the edge store key cannot make a request the secure store accepts', () => {
    const now = Date.now();
    const verifier = secureVerifier();
    // A ticket the gateway made for the edge store (which the edge store can open), sent to the secure store.
    const forEdge = signed(current, now, EDGE);
    expect(verifier.check(subject, forEdge.headers, forEdge.body, now)?.message).toMatch(/ticket is for edge-store/);
    // Relabelling that ticket for the secure store breaks its Ed25519 signature.
    const relabelled = forEdge.headers.get(SignatureHeader.TICKET).replace(`.${EDGE}.`, `.${SECURE}.`);
    forEdge.headers.set(SignatureHeader.TICKET, relabelled);
    expect(verifier.check(subject, forEdge.headers, forEdge.body, now)?.message).toMatch(/ticket signature/);
    // A signer of its own (an edge store key, a seed of its own) is not the gateway.
    const rogue = new ContextSigner(randomBytes(32), () => secureKey.publicKey);
    const forged = signed(rogue, now);
    expect(verifier.check(subject, forged.headers, forged.body, now)?.message).toMatch(/unknown key/);
  });

  it('context signature - each signed field is bound: tenant, actor, correlation id, deadline, signing time, ticket', () => {
    const now = Date.now();
    const verifier = secureVerifier();
    const other = signed(current, now, EDGE).headers.get(SignatureHeader.TICKET);
    const edits: Array<[string, string]> = [
      ['Ps-Tenant', 'globex'],
      ['Ps-Actor', 'key-1'],
      ['Ps-Correlation-Id', 'someone-else'],
      ['Ps-Deadline', String(now + 6_000)],
      [SignatureHeader.ISSUED_AT, String(now - 1)],
      [SignatureHeader.TICKET, other],
    ];
    for (const [name, value] of edits) {
      const { headers, body } = signed(current, now);
      headers.set(name, value);
      expect(verifier.check(subject, headers, body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    }
    const { headers, body } = signed(current, now);
    expect(verifier.check(subject, headers, Buffer.concat([body, Buffer.from(' ')]), now)?.code).toBe(
      MessagingErrorCode.CONTEXT_INVALID,
    );
    expect(verifier.check(`${subject}x`, headers, body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
  });

  it('context signature - the answer may go only under the inbox prefix signed with the message', () => {
    const now = Date.now();
    const verifier = secureVerifier();
    const check = (message: { headers: MsgHdrs; body: Buffer }, reply?: string) =>
      verifier.check(subject, message.headers, message.body, now, reply);
    expect(check(signed(current, now, SECURE, '_INBOX.gateway'), '_INBOX.gateway.AbC.12')).toBeUndefined();
    // Sent again by another service, with its own inbox as the reply subject.
    for (const elsewhere of ['_INBOX.cli.AbC.12', '_INBOX.gatewayx.AbC.12', '_INBOX.gateway', 'ps.secure.x'])
      expect(check(signed(current, now, SECURE, '_INBOX.gateway'), elsewhere)?.message).toMatch(
        /reply subject is not the signer's/,
      );
    // The prefix is signed: changing or removing it breaks the MAC.
    const moved = signed(current, now, SECURE, '_INBOX.gateway');
    moved.headers.set(SignatureHeader.REPLY_PREFIX, '_INBOX.cli');
    expect(check(moved, '_INBOX.cli.AbC.12')?.message).toMatch(/signature does not match/);
    const dropped = signed(current, now, SECURE, '_INBOX.gateway');
    dropped.headers.delete(SignatureHeader.REPLY_PREFIX);
    expect(check(dropped, '_INBOX.x.AbC.12')?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    // Without a reply subject nobody gets an answer: nothing to bind (a command's copy is the replay memory's).
    expect(check(signed(current, now, SECURE, '_INBOX.gateway'))).toBeUndefined();
    expect(verifier.replayWindowMs).toBe(10 * 60_000 + 30_000);
  });

  it('context signature - a missing or malformed signature or ticket is refused without throwing', () => {
    const now = Date.now();
    const verifier = secureVerifier();
    const { headers, body } = signed(current, now);
    expect(verifier.check(subject, undefined, body, now)?.code).toBe(MessagingErrorCode.CONTEXT_UNSIGNED);
    for (const bad of ['', 'x', 'A'.repeat(43)]) {
      const copy = signed(current, now);
      copy.headers.set(SignatureHeader.SIGNATURE, bad);
      expect(verifier.check(subject, copy.headers, copy.body, now)?.code).toMatch(/CONTEXT_(UNSIGNED|INVALID)/);
    }
    const ticket = headers.get(SignatureHeader.TICKET);
    for (const bad of [
      'v0.a.b.c.d.e.f',
      ticket.slice(0, -10),
      `${ticket}.extra`,
      ticket.replace(/\.[^.]+\.[^.]+$/, '.AAAA.BBBB'),
    ]) {
      headers.set(SignatureHeader.TICKET, bad);
      expect(verifier.check(subject, headers, body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    }
  });

  it('context signature - an expired ticket, or a message signed in the future or for too long, is CONTEXT_EXPIRED', () => {
    const now = Date.now();
    const verifier = secureVerifier();
    const fresh = signed(current, now);
    expect(verifier.check(subject, fresh.headers, fresh.body, now)).toBeUndefined();
    // The same session's ticket, cached by the store, past its ten minutes.
    const later = signed(current, now + 1_000);
    expect(verifier.check(subject, later.headers, later.body, now + 11 * 60_000)?.code).toBe(
      MessagingErrorCode.CONTEXT_EXPIRED,
    );
    const future = signed(current, now + 120_000);
    expect(verifier.check(subject, future.headers, future.body, now)?.code).toBe(MessagingErrorCode.CONTEXT_EXPIRED);
  });

  it('context signature - a signature is remembered until its deadline, then forgotten (memory stays bounded)', () => {
    const now = Date.now();
    const verifier = new ContextVerifier(SECURE, [current.publicKey], [secureKey.privateKey], { maxRemembered: 3 });
    const messages = [signed(current, now), signed(current, now), signed(current, now)];
    for (const { headers, body } of messages) expect(verifier.check(subject, headers, body, now)).toBeUndefined();
    expect(verifier.check(subject, messages[0]!.headers, messages[0]!.body, now)?.code).toBe(
      MessagingErrorCode.CONTEXT_REPLAYED,
    );
    const fourth = signed(current, now);
    expect(verifier.check(subject, fourth.headers, fourth.body, now)?.code).toBe(MessagingErrorCode.CONTEXT_INVALID);
    const later = now + 6_000;
    const fifth = signed(current, later);
    expect(verifier.check(subject, fifth.headers, fifth.body, later)).toBeUndefined();
    expect(verifier.remembered).toBe(1);
  });

  it('context signature - keys of the wrong size, no keys, or a service without a key fail loudly', () => {
    expect(() => new ContextVerifier(SECURE, [], [secureKey.privateKey])).toThrow(/at least one public key/);
    expect(() => new ContextVerifier(SECURE, [current.publicKey], [])).toThrow(/context key of secure-store/);
    expect(() => new ContextVerifier(SECURE, [randomBytes(16).toString('base64')], [secureKey.privateKey])).toThrow(
      /32 bytes/,
    );
    expect(() => new ContextSigner(randomBytes(31), () => undefined)).toThrow(/32-byte/);
    const headers = natsHeaders();
    headers.set('Ps-Deadline', String(Date.now() + 1_000));
    expect(() => current.sign(subject, 'unknown-store', headers, Buffer.from('{}'))).toThrow(/CONTEXT_STORE_KEYS/);
  });
});
