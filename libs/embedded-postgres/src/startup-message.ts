/** PostgreSQL frontend/backend protocol 3.0: the codes a router must recognise before a session starts. */
const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
const CANCEL_REQUEST = 80_877_102;
/** A startup packet larger than this is not a real client (PostgreSQL's own limit is 10,000 bytes). */
const MAX_STARTUP_BYTES = 10_000;

export type StartupPacket =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'encryption-request'; readonly length: number }
  | { readonly kind: 'cancel' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'startup'; readonly length: number; readonly parameters: ReadonlyMap<string, string> };

/** Reads the first packet a PostgreSQL client sends (SSL/GSS request, cancel request or startup message). */
export function readStartupPacket(buffer: Buffer): StartupPacket {
  if (buffer.length < 8) return { kind: 'incomplete' };
  const length = buffer.readInt32BE(0);
  const code = buffer.readInt32BE(4);
  if (length < 8 || length > MAX_STARTUP_BYTES) return { kind: 'invalid', reason: `startup packet of ${length} bytes` };
  if (code === SSL_REQUEST || code === GSSENC_REQUEST) return { kind: 'encryption-request', length };
  if (code === CANCEL_REQUEST) return { kind: 'cancel' };
  if (code !== PROTOCOL_3) return { kind: 'invalid', reason: `unsupported protocol ${code >> 16}.${code & 0xffff}` };
  if (buffer.length < length) return { kind: 'incomplete' };
  const fields = buffer
    .subarray(8, length - 1)
    .toString('utf8')
    .split('\0');
  const parameters = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) parameters.set(fields[i]!, fields[i + 1]!);
  return { kind: 'startup', length, parameters };
}

/** A FATAL ErrorResponse, as a server sends it before closing a session it refuses. */
export function fatalError(sqlState: string, message: string): Buffer {
  const body = Buffer.concat([
    field('S', 'FATAL'),
    field('V', 'FATAL'),
    field('C', sqlState),
    field('M', message),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function field(code: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(code, 'ascii'), Buffer.from(value, 'utf8'), Buffer.from([0])]);
}
