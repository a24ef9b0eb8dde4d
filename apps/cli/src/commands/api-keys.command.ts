import { API_KEY_SCOPES } from '#polystore/catalog';
import { InvalidArgumentError, type Command } from 'commander';
import { gatewayAdmin } from '../cli-context.js';
import type { CliRuntime } from '../cli-runtime.js';
import { printJson, printTable } from '../output.js';
import { slugArgument } from './arguments.js';
import { failIfNot } from './gateway-response.js';

interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  replacedBy: string | null;
  apiKey?: string;
}

const COLUMNS = ['id', 'name', 'prefix', 'scopes', 'createdAt', 'expiresAt', 'lastUsedAt', 'replacedBy'];

function scopesArgument(value: string): string[] {
  const scopes = value.split(',').map((s) => s.trim());
  const bad = scopes.find((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad}" is not a scope (${API_KEY_SCOPES.join(', ')})`);
  return scopes;
}

function keysPath(slug: string, rest = ''): string {
  return `/admin/tenants/${slugArgument(slug)}/api-keys${rest}`;
}

function printIssued(key: ApiKeyView, json: boolean | undefined): void {
  if (json) printJson(key);
  else process.stdout.write(`API key ${key.id} (${key.name}; ${key.scopes.join(', ')}), shown once:\n${key.apiKey}\n`);
}

/** A tenant's API keys through the gateway's admin API: list, create, revoke, rotate. */
export function registerApiKeys(program: Command, runtime: CliRuntime): void {
  const keys = program.command('api-keys').description("a tenant's API keys: list, create, revoke, rotate");

  keys
    .command('list <slug>')
    .description('keys not revoked (never their secrets)')
    .option('--json', 'print JSON')
    .action((slug: string, flags: { json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<{ items: ApiKeyView[] }>(config, 'GET', keysPath(slug));
        failIfNot(response, 200, 'slug');
        if (flags.json) printJson(response.body.items);
        else
          printTable(
            response.body.items.map((k) => ({ ...k, scopes: k.scopes.join(',') })),
            COLUMNS,
          );
        return 0;
      }),
    );

  keys
    .command('create <slug>')
    .description('a new key, printed once')
    .option('--name <name>', 'what the key is for')
    .option('--scopes <list>', `comma-separated: ${API_KEY_SCOPES.join(', ')} (default full)`, scopesArgument)
    .option('--expires-at <iso-date>', 'refused from then on (ISO 8601)')
    .option('--json', 'print JSON')
    .action((slug: string, flags: { name?: string; scopes?: string[]; expiresAt?: string; json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<ApiKeyView>(config, 'POST', keysPath(slug), {
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.scopes ? { scopes: flags.scopes } : {}),
          ...(flags.expiresAt !== undefined ? { expiresAt: flags.expiresAt } : {}),
        });
        failIfNot(response, 201, '--name/--scopes/--expires-at');
        printIssued(response.body, flags.json);
        return 0;
      }),
    );

  keys
    .command('revoke <slug> <id>')
    .description('refuse the key at once, on every gateway')
    .action((slug: string, id: string) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin(config, 'DELETE', keysPath(slug, `/${encodeURIComponent(id)}`));
        failIfNot(response, 204, 'id');
        process.stdout.write(`API key ${id} revoked\n`);
        return 0;
      }),
    );

  keys
    .command('rotate <slug> <id>')
    .description('a new key like this one; the old one keeps working for the overlap')
    .option('--overlap <seconds>', 'how long the old key keeps working (default 3600)')
    .option('--json', 'print JSON')
    .action((slug: string, id: string, flags: { overlap?: string; json?: boolean }) =>
      runtime.runOffline(async (config) => {
        const response = await gatewayAdmin<ApiKeyView>(
          config,
          'POST',
          keysPath(slug, `/${encodeURIComponent(id)}/rotate`),
          flags.overlap !== undefined ? { overlapSeconds: Number(flags.overlap) } : {},
        );
        failIfNot(response, 201, flags.overlap !== undefined ? '--overlap' : 'id');
        printIssued(response.body, flags.json);
        return 0;
      }),
    );
}
