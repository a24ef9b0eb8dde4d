/** HTML that is safe to send as it is: built by {@link html} (every interpolation escaped) or {@link raw}. */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` escaped for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Marks `fragment` as HTML already escaped: for fragments built here from known-safe characters
 * only (never from a request or the catalog as they are).
 */
export function raw(fragment: string): SafeHtml {
  return new SafeHtml(fragment);
}

/** One interpolated value: SafeHtml as it is, arrays item by item, null/undefined/false nothing, anything else escaped. */
function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new Error('html: interpolate text, numbers, fragments or lists, not objects');
}

/**
 * The console's templates: a tagged template whose every interpolation is escaped (text and
 * attribute values alike; attributes are always quoted in the templates), unless it is a
 * {@link SafeHtml} (a nested `html` fragment or a {@link raw} one).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}
