import { randomBytes } from 'node:crypto';
import { CodedError, ErrorKind } from '#polystore/platform';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type BrokerAccess, telemetryTopic } from './broker-access.js';

export interface MosquittoDynamicSecurityOptions {
  /** `mqtt://host:port` of the broker. */
  url: string;
  /** The dynamic-security admin account (role `admin` of `mosquitto_ctrl dynsec init`). */
  username: string;
  password: string;
  /** How long a command batch (or the connection) may take before failing. Default 5000 ms. */
  commandTimeoutMs?: number;
}

export const BrokerAccessErrorCode = {
  /** A tenant, device id, token, account name or group that may not go into a topic or ACL. */
  INVALID_INPUT: 'BROKER_INVALID_INPUT',
  /** The plugin answered a command with an error. */
  COMMAND_FAILED: 'BROKER_COMMAND_FAILED',
  /** No answer within `commandTimeoutMs`. */
  TIMEOUT: 'BROKER_TIMEOUT',
  /** The admin connection could not be opened, or the instance is closed. */
  UNAVAILABLE: 'BROKER_UNAVAILABLE',
} as const;
export type BrokerAccessErrorCode = (typeof BrokerAccessErrorCode)[keyof typeof BrokerAccessErrorCode];

/** Errors of {@link MosquittoDynamicSecurity}. Messages never contain a password or token. */
export class BrokerAccessError extends CodedError<BrokerAccessErrorCode> {}

const COMMAND_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

const TENANT = /^[a-z][a-z0-9-]{1,39}$/;
/** Canonical (lower-case) UUID: topics and usernames are case-sensitive, so one spelling only. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TOKEN = /^[A-Za-z0-9._~-]{20,200}$/;
/** Account names and share groups: no MQTT wildcard, separator or `$`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

interface Acl {
  acltype: AclType;
  topic: string;
  allow: boolean;
  priority: number;
}

/** ACLs are checked highest priority first; the first whose topic matches decides. */
const ALLOW_PRIORITY = 10;
const DENY_PRIORITY = 0;

interface Command {
  command: string;
  [field: string]: unknown;
}

interface Response {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: unknown;
}

interface Pending {
  resolve: (response: Response) => void;
  reject: (error: Error) => void;
}

/** The plugin's error texts this class branches on (Mosquitto 2.0.x). */
const ALREADY_EXISTS = /already exists/i;
const NOT_FOUND = /not found/i;

/** The role of a device: publish to its own telemetry topic, nothing else. */
export function deviceRoleName(deviceId: string): string {
  return `dev-${deviceId}`;
}

/** The role of the ingest consumer account. */
export function ingestRoleName(username: string): string {
  return `ingest-${username}`;
}

function invalid(what: string, value: unknown, rule: string): BrokerAccessError {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : typeof value;
  return new BrokerAccessError(
    BrokerAccessErrorCode.INVALID_INPUT,
    ErrorKind.INVALID_ARGUMENT,
    `invalid ${what} ${shown}: ${rule}`,
  );
}

function checkTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || !TENANT.test(tenant))
    throw invalid('tenant', tenant, 'expected ^[a-z][a-z0-9-]{1,39}$');
}

function checkDeviceId(deviceId: unknown): asserts deviceId is string {
  if (typeof deviceId !== 'string' || !UUID.test(deviceId))
    throw invalid('device id', deviceId, 'expected a lower-case UUID');
}

function checkToken(token: unknown): asserts token is string {
  // The token itself is never shown.
  if (typeof token !== 'string' || !TOKEN.test(token))
    throw invalid('device token', '<redacted>', 'expected 20-200 characters of [A-Za-z0-9._~-]');
}

function checkName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalid(what, name, 'expected ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
}

function sameAcl(a: Acl, b: Acl): boolean {
  return a.acltype === b.acltype && a.topic === b.topic && a.allow === b.allow && a.priority === b.priority;
}

/** Waits for CONNACK; on refusal, timeout or socket error ends the client and rejects. */
function openClient(url: string, options: IClientOptions, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { ...options, connectTimeout: timeoutMs });
    const fail = (error: Error) => {
      clearTimeout(timer);
      client.removeListener('connect', onConnect);
      client.end(true);
      reject(error);
    };
    const onError = (error: Error) => fail(error);
    const onConnect = () => {
      clearTimeout(timer);
      client.removeListener('error', onError);
      resolve(client);
    };
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/**
 * `BrokerAccess` on Mosquitto 2's dynamic security plugin, driven over MQTT: JSON commands are
 * published to `$CONTROL/dynamic-security/v1` and answered on `$CONTROL/dynamic-security/v1/response`.
 *
 * Facts this relies on (checked against Mosquitto 2.0.11 by `mosquitto-dynamic-security.int.spec.ts`):
 * - the plugin echoes a string `correlationData` on each command's response (a non-string one is
 *   rejected), and answers every command of a batch even when an earlier one failed;
 * - every admin client subscribed to the response topic receives every response, so the
 *   correlation data carries a random per-instance prefix and foreign responses are ignored;
 * - `deleteClient` and `setClientPassword` disconnect the client's live connections at once;
 * - `addClientRole` for a role the client already has answers "Internal error", and `createClient`
 *   accepts an empty username: hence the read-compare-fix reconciliation and the input checks here.
 *
 * High-level operations run one at a time per instance (so two grants of one device in this process
 * never interleave); across processes every operation converges because each step is idempotent.
 */
export class MosquittoDynamicSecurity implements BrokerAccess {
  private readonly timeoutMs: number;
  /** Random per instance: responses to other admin clients' commands are ignored. */
  private readonly instanceId = randomBytes(6).toString('hex');
  private sequence = 0;
  private readonly pending = new Map<string, Pending>();
  private client?: MqttClient;
  private connecting?: Promise<MqttClient>;
  private closed = false;
  private lastConnectionError?: string;
  /** Tail of the per-instance operation queue. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MosquittoDynamicSecurityOptions) {
    this.timeoutMs = options.commandTimeoutMs ?? 5_000;
  }

  /** Connects, subscribes to the responses, and makes sure the default ACL access is the locked-down one. */
  static async connect(options: MosquittoDynamicSecurityOptions): Promise<MosquittoDynamicSecurity> {
    const access = new MosquittoDynamicSecurity(options);
    try {
      await access.ready();
      await access.ensureDefaultAcls();
    } catch (error) {
      await access.close();
      throw error;
    }
    return access;
  }

  /**
   * Idempotent. Role `dev-<deviceId>`:
   * - `publishClientSend` allow `tenants/<tenant>/devices/<deviceId>/telemetry` (priority 10),
   * - `publishClientSend` deny `#` and `subscribePattern` deny `#` (priority 0), so the role alone
   *   allows nothing else whatever the default ACL access;
   *
   * client `<deviceId>` with password `<token>` and that role only. An existing role is reconciled to
   * exactly these ACLs (a re-grant may move the device to another tenant); an existing client gets
   * its roles/groups fixed and, when the token differs, its password replaced (which disconnects
   * sessions opened with the old token).
   */
  async grantDevice(tenant: string, deviceId: string, token: string): Promise<void> {
    checkTenant(tenant);
    checkDeviceId(deviceId);
    checkToken(token);
    const rolename = deviceRoleName(deviceId);
    await this.exclusive(async () => {
      await this.ensureRole(rolename, [
        {
          acltype: 'publishClientSend',
          topic: telemetryTopic(tenant, deviceId),
          allow: true,
          priority: ALLOW_PRIORITY,
        },
        { acltype: 'publishClientSend', topic: '#', allow: false, priority: DENY_PRIORITY },
        { acltype: 'subscribePattern', topic: '#', allow: false, priority: DENY_PRIORITY },
      ]);
      await this.ensureClient(deviceId, token, rolename);
    });
  }

  /** Deletes client `<deviceId>` (Mosquitto disconnects it at once) then role `dev-<deviceId>`; "not found" is success. */
  async revokeDevice(deviceId: string): Promise<void> {
    checkDeviceId(deviceId);
    await this.exclusive(async () => {
      await this.run({ command: 'deleteClient', username: deviceId }, NOT_FOUND);
      await this.run({ command: 'deleteRole', rolename: deviceRoleName(deviceId) }, NOT_FOUND);
    });
  }

  /**
   * Idempotent. Role `ingest-<username>`:
   * - `subscribePattern` allow `$share/<group>/tenants/#` (the plugin checks a shared subscription
   *   with its `$share/<group>/` prefix, so a plain `tenants/#` subscription is refused),
   * - `publishClientReceive` allow `tenants/#` (receiving is denied by default),
   * - `publishClientSend` deny `#` and `subscribePattern` deny `#` (priority 0);
   *
   * client `<username>` with that role only. The password is replaced only when it differs, because
   * `setClientPassword` disconnects the account's live consumers (other edge-store instances).
   */
  async ensureIngestAccount(username: string, password: string, group: string): Promise<void> {
    checkName('ingest username', username);
    checkName('share group', group);
    if (username === this.options.username) throw invalid('ingest username', username, 'must not be the admin account');
    if (UUID.test(username)) throw invalid('ingest username', username, 'must not look like a device id');
    if (typeof password !== 'string' || password.length < 12 || password.length > 512)
      throw invalid('ingest password', '<redacted>', 'expected 12-512 characters');
    const rolename = ingestRoleName(username);
    await this.exclusive(async () => {
      await this.ensureRole(rolename, [
        { acltype: 'subscribePattern', topic: `$share/${group}/tenants/#`, allow: true, priority: ALLOW_PRIORITY },
        { acltype: 'publishClientReceive', topic: 'tenants/#', allow: true, priority: ALLOW_PRIORITY },
        { acltype: 'publishClientSend', topic: '#', allow: false, priority: DENY_PRIORITY },
        { acltype: 'subscribePattern', topic: '#', allow: false, priority: DENY_PRIORITY },
      ]);
      await this.ensureClient(username, password, rolename);
    });
  }

  /**
   * Sets the access that applies when no role ACL matches (idempotent; called by `connect`):
   * - `publishClientSend` deny: a client publishes only where a role allows it;
   * - `publishClientReceive` deny: a client receives only what a role allows (the ingest role allows
   *   `tenants/#`; the admin role from `dynsec init` allows `#` and `$CONTROL/dynamic-security/#`);
   * - `subscribe` deny: no subscription without a role ACL (devices have none);
   * - `unsubscribe` allow: unsubscribing grants nothing, and denying it only confuses clients.
   * Changing it does not disconnect anyone.
   */
  async ensureDefaultAcls(): Promise<void> {
    await this.exclusive(() =>
      this.run({
        command: 'setDefaultACLAccess',
        acls: [
          { acltype: 'publishClientSend', allow: false },
          { acltype: 'publishClientReceive', allow: false },
          { acltype: 'subscribe', allow: false },
          { acltype: 'unsubscribe', allow: true },
        ],
      }),
    );
  }

  /** Fails the commands still waiting and disconnects. Idempotent; later calls fail with UNAVAILABLE. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.pending.values()) waiting.reject(this.unavailable('dynamic security client closed'));
    this.pending.clear();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    this.connecting = undefined;
    if (client) await client.endAsync(true).catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------

  /** Creates the role with exactly `acls`, or brings an existing one to exactly `acls`. */
  private async ensureRole(rolename: string, acls: Acl[]): Promise<void> {
    const created = await this.run({ command: 'createRole', rolename, acls }, ALREADY_EXISTS);
    if (!created.error) return;
    const current = ((await this.run({ command: 'getRole', rolename })).data as { role?: { acls?: Acl[] } } | undefined)
      ?.role?.acls;
    const existing = current ?? [];
    // ACLs are keyed by (type, topic): a wrong allow/priority is removed, then added back right.
    for (const acl of existing) {
      if (!acls.some((wanted) => sameAcl(wanted, acl)))
        await this.run({ command: 'removeRoleACL', rolename, acltype: acl.acltype, topic: acl.topic }, NOT_FOUND);
    }
    for (const acl of acls) {
      if (!existing.some((have) => sameAcl(have, acl)))
        await this.run({ command: 'addRoleACL', rolename, ...acl }, ALREADY_EXISTS);
    }
  }

  /** Creates the client with `password` and role `rolename` only, or reconciles an existing one. */
  private async ensureClient(username: string, password: string, rolename: string): Promise<void> {
    const created = await this.run(
      { command: 'createClient', username, password, roles: [{ rolename, priority: 0 }] },
      ALREADY_EXISTS,
    );
    if (!created.error) return;
    const client = (
      (await this.run({ command: 'getClient', username })).data as
        | { client?: { roles?: { rolename: string }[]; groups?: { groupname: string }[]; disabled?: boolean } }
        | undefined
    )?.client;
    const roles = client?.roles ?? [];
    for (const role of roles) {
      if (role.rolename !== rolename)
        await this.run({ command: 'removeClientRole', username, rolename: role.rolename }, NOT_FOUND);
    }
    // "Internal error" from the plugin when the client already has the role: add only when missing.
    if (!roles.some((role) => role.rolename === rolename))
      await this.run({ command: 'addClientRole', username, rolename, priority: 0 });
    for (const group of client?.groups ?? [])
      await this.run({ command: 'removeGroupClient', groupname: group.groupname, username }, NOT_FOUND);
    if (client?.disabled) await this.run({ command: 'enableClient', username });
    if (!(await this.credentialsWork(username, password)))
      await this.run({ command: 'setClientPassword', username, password });
  }

  /**
   * Whether the broker accepts `username`/`password` now (a throw-away connection with its own client
   * id, so no live session is taken over): lets an unchanged password skip `setClientPassword` and
   * its disconnection of live sessions. Any failure counts as "no", which only costs a reset.
   */
  private async credentialsWork(username: string, password: string): Promise<boolean> {
    try {
      const probe = await openClient(
        this.options.url,
        {
          username,
          password,
          clientId: `polystore-dynsec-probe-${randomBytes(6).toString('hex')}`,
          clean: true,
          reconnectPeriod: 0,
          protocolVersion: 4,
        },
        this.timeoutMs,
      );
      await probe.endAsync().catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs one operation after the previous ones of this instance have settled. */
  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Sends one command and returns its response. An error whose text matches `tolerated` is returned
   * (the caller branches on `response.error`); any other error throws with the plugin's text.
   */
  private async run(command: Command, tolerated?: RegExp): Promise<Response> {
    const [response] = await this.send([command]);
    if (!response) throw this.commandFailed(command, 'no response');
    if (response.error && !tolerated?.test(response.error)) throw this.commandFailed(command, response.error);
    return response;
  }

  private commandFailed(command: Command, error: string): BrokerAccessError {
    // Only names, never the password or the ACL list.
    const subject = [command['username'], command['rolename'], command['groupname']]
      .filter((value): value is string => typeof value === 'string')
      .join(', ');
    return new BrokerAccessError(
      BrokerAccessErrorCode.COMMAND_FAILED,
      ErrorKind.INTERNAL,
      `dynamic security ${command.command}${subject ? ` (${subject})` : ''} failed: ${error}`,
      { command: command.command, pluginError: error },
    );
  }

  /** Publishes a batch, each command with its own correlation data, and waits for every response. */
  private async send(commands: Command[]): Promise<Response[]> {
    const client = await this.ready();
    const ids = commands.map(() => `${this.instanceId}:${++this.sequence}`);
    let timer: NodeJS.Timeout | undefined;
    const answers = ids.map(
      (id) => new Promise<Response>((resolve, reject) => this.pending.set(id, { resolve, reject })),
    );
    const payload = JSON.stringify({
      commands: commands.map((command, i) => ({ ...command, correlationData: ids[i] })),
    });
    try {
      return await Promise.race([
        Promise.all(answers),
        // Resolves on PUBACK (ignored: the responses are what counts), rejects when the client is closed.
        client.publishAsync(COMMAND_TOPIC, payload, { qos: 1 }).then(
          () => new Promise<never>(() => undefined),
          (error: Error) =>
            Promise.reject(this.unavailable(`publishing ${this.names(commands)} failed: ${error.message}`)),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const cause = this.client?.connected
              ? ''
              : ` (not connected: ${this.lastConnectionError ?? 'reconnecting'})`;
            reject(
              new BrokerAccessError(
                BrokerAccessErrorCode.TIMEOUT,
                ErrorKind.DEADLINE_EXCEEDED,
                `dynamic security: no response to ${this.names(commands)} within ${this.timeoutMs} ms${cause}`,
              ),
            );
          }, this.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      for (const id of ids) this.pending.delete(id);
    }
  }

  private names(commands: Command[]): string {
    return commands.map((command) => command.command).join(', ');
  }

  private unavailable(message: string): BrokerAccessError {
    return new BrokerAccessError(BrokerAccessErrorCode.UNAVAILABLE, ErrorKind.UNAVAILABLE, message);
  }

  private onResponse(payload: Buffer): void {
    let responses: unknown;
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: unknown }).responses;
    } catch {
      return;
    }
    if (!Array.isArray(responses)) return;
    for (const response of responses as Response[]) {
      // Responses without (our) correlation data answer another admin client's commands.
      if (typeof response?.correlationData !== 'string') continue;
      this.pending.get(response.correlationData)?.resolve(response);
    }
  }

  /**
   * The admin connection, opened once (single-flight; a failed attempt is retried by the next
   * call). Once open, mqtt.js reconnects by itself and re-subscribes; commands sent meanwhile wait
   * for the reconnection or time out.
   */
  private ready(): Promise<MqttClient> {
    if (this.closed) return Promise.reject(this.unavailable('dynamic security client is closed'));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().then(
      (client) => {
        this.connecting = undefined;
        if (this.closed) {
          client.end(true);
          throw this.unavailable('dynamic security client is closed');
        }
        this.client = client;
        return client;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    return this.connecting;
  }

  private async open(): Promise<MqttClient> {
    let client: MqttClient;
    try {
      client = await openClient(
        this.options.url,
        {
          username: this.options.username,
          password: this.options.password,
          clientId: `polystore-dynsec-${this.instanceId}`,
          clean: true,
          reconnectPeriod: 1_000,
          protocolVersion: 4,
        },
        this.timeoutMs,
      );
    } catch (error) {
      throw this.unavailable(
        `dynamic security: cannot connect to ${this.options.url} as ${this.options.username}: ${(error as Error).message}`,
      );
    }
    client.on('message', (topic, payload) => {
      if (topic === RESPONSE_TOPIC) this.onResponse(payload);
    });
    client.on('error', (error) => {
      this.lastConnectionError = error.message;
    });
    client.on('connect', () => {
      this.lastConnectionError = undefined;
    });
    try {
      const granted = await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      if (granted.some((grant) => grant.qos === 128))
        throw new Error('subscription refused (is this the admin account?)');
    } catch (error) {
      client.end(true);
      throw this.unavailable(`dynamic security: cannot subscribe to ${RESPONSE_TOPIC}: ${(error as Error).message}`);
    }
    return client;
  }
}
