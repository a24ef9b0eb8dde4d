import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HostListUrl } from './host-list-url.js';
import { MasterKeyring, MasterKeyringError } from '../crypto/master-keyring.util.js';

/** Raised when the environment does not satisfy an app's schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `env` against `schema` once, at boot, and returns the typed result.
 * Throws {@link ConfigError} listing each offending variable by name.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(withSecretFiles(schema, env));
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * Every `X_FILE` variable, where `X` is a variable of `schema`, sets `X` to the contents of that
 * file (trailing line breaks removed), so secrets can come from mounted files (Docker/Kubernetes
 * secrets) instead of the environment. Other `*_FILE` variables of the environment are left alone.
 * Setting both `X` and `X_FILE`, or naming a file that cannot be read, is a configuration error.
 */
export function withSecretFiles(
  schema: z.ZodType,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const names = variablesOf(schema);
  const resolved = { ...env };
  const problems: string[] = [];
  for (const [name, file] of Object.entries(env)) {
    const target = name.slice(0, -'_FILE'.length);
    if (!name.endsWith('_FILE') || !names.has(target) || names.has(name) || file === undefined) continue;
    if (env[target] !== undefined) {
      problems.push(`${name}: set either ${target} or ${name}, not both`);
      continue;
    }
    try {
      resolved[target] = readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
    } catch (error) {
      problems.push(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolved;
}

/** The variable names an object schema declares (through refinements and pipes). */
function variablesOf(schema: z.ZodType): Set<string> {
  let current: unknown = schema;
  for (let depth = 0; depth < 10 && current; depth++) {
    if (current instanceof z.ZodObject) return new Set(Object.keys(current.shape));
    const def = (current as { _zod?: { def?: { in?: unknown; innerType?: unknown } } })._zod?.def;
    current = def?.in ?? def?.innerType;
  }
  return new Set();
}

/** A URL variable restricted to the given protocols (e.g. `['postgres:', 'postgresql:']`). */
export function urlVar(protocols: readonly string[], fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (value) => {
        try {
          return protocols.includes(HostListUrl.parse(value).url.protocol);
        } catch {
          return false;
        }
      },
      `must be a URL with protocol ${protocols.map((p) => p.replace(/:$/, '://')).join(' or ')}`,
    );
}

/** A TCP port (0 lets the OS choose). */
export function portVar(fallback: number) {
  return z.coerce.number().int().min(0).max(65535).default(fallback);
}

/** A positive integer within bounds. */
export function intVar(fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return z.coerce.number().int().min(min).max(max).default(fallback);
}

/** `true/false/1/0/yes/no`. */
export function boolVar(fallback: boolean) {
  return z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
}

/** A base64 string that decodes to exactly `bytes` bytes; yields the decoded Buffer. */
export function base64KeyVar(bytes: number) {
  return z
    .string()
    .trim()
    .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === bytes, {
      message: `must be ${bytes} bytes encoded as base64`,
    })
    .transform((v) => Buffer.from(v, 'base64'));
}

/**
 * A master key, bare (one base64 32-byte key, version 1) or versioned (`v2:<base64>,v1:<base64>`,
 * the first current): yields a {@link MasterKeyring}. Errors are reported under the variable's
 * name and never quote the value.
 */
export function masterKeyringVar() {
  return z.string().transform((value, ctx) => {
    try {
      return MasterKeyring.parse(value);
    } catch (error) {
      if (!(error instanceof MasterKeyringError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
      return z.NEVER;
    }
  });
}

export const nodeEnvVar = z.enum(['development', 'test', 'production']).default('development');
export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
