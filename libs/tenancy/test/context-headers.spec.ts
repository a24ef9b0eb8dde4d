import { describe, expect, it } from '@jest/globals';
import {
  ContextHeader,
  RequestContextStore,
  newRequestContext,
  readContextHeaders,
  runAsTenant,
  writeContextHeaders,
  parseTenantSlug,
} from '#polystore/tenancy';

class Bag {
  private readonly values = new Map<string, string>();
  get(name: string): string {
    return this.values.get(name) ?? '';
  }
  set(name: string, value: string): void {
    this.values.set(name, value);
  }
}

describe('tenancy - request context', () => {
  it('a context survives a round trip through message headers', () => {
    const sent = newRequestContext({ tenant: parseTenantSlug('acme'), actor: 'key-1', deadline: Date.now() + 1_000 });
    const bag = new Bag();
    writeContextHeaders(sent, bag);
    const { context, invalidTenant } = readContextHeaders(bag);
    expect(invalidTenant).toBe(false);
    expect(context).toEqual(sent);
  });

  it('an invalid tenant header is reported, not silently dropped', () => {
    const bag = new Bag();
    bag.set(ContextHeader.TENANT, "acme'; DROP");
    const { context, invalidTenant } = readContextHeaders(bag);
    expect(invalidTenant).toBe(true);
    expect(context.tenant).toBeUndefined();
  });

  it('a hostile correlation id is replaced and an absurd deadline falls back to the default budget', () => {
    const bag = new Bag();
    bag.set(ContextHeader.CORRELATION_ID, 'x\nINJECTED log line');
    bag.set(ContextHeader.DEADLINE, String(Date.now() + 365 * 86_400_000));
    const { context } = readContextHeaders(bag);
    expect(context.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.deadline - Date.now()).toBeLessThanOrEqual(5_000);
  });

  it('the context follows async work and nested runs replace it', async () => {
    await runAsTenant(parseTenantSlug('outer'), async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(RequestContextStore.requireTenant()).toBe('outer');
      await runAsTenant(parseTenantSlug('inner'), async () => {
        await Promise.resolve();
        expect(RequestContextStore.requireTenant()).toBe('inner');
      });
      expect(RequestContextStore.requireTenant()).toBe('outer');
    });
    expect(() => RequestContextStore.requireTenant()).toThrow(expect.objectContaining({ code: 'NO_TENANT_CONTEXT' }));
  });
});
