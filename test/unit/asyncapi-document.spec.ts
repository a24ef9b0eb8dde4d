import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { z } from 'zod';
import { telemetryTopic } from '#polystore/device-broker';
import { deviceReadingSchema } from '#polystore/messaging';
import { parse } from 'yaml';

const source = readFileSync(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8');

describe('asyncapi - docs/asyncapi.yaml describes the device topics as the code has them', () => {
  it('asyncapi - the document is valid AsyncAPI (@asyncapi/parser: no error, no warning)', async () => {
    const { document, diagnostics } = await new Parser().parse(source);
    const serious = new Set([DiagnosticSeverity.Error, DiagnosticSeverity.Warning]);
    expect(diagnostics.filter((d) => serious.has(d.severity)).map((d) => `${d.code}: ${d.message}`)).toEqual([]);
    expect(document?.channels().get('telemetry')?.address()).toBe(telemetryTopic('{tenant}', '{deviceId}'));
    expect(document?.operations().get('publishTelemetry')?.action()).toBe('receive');
  });

  it("asyncapi - the reading schema is the contract's deviceReadingSchema (libs/messaging)", () => {
    const { $schema: _, ...contract } = z.toJSONSchema(deviceReadingSchema, { target: 'draft-07', io: 'input' });
    const documented = (parse(source) as { components: { schemas: Record<string, unknown> } }).components.schemas;
    expect(documented['DeviceReading']).toEqual(contract);
  });
});
