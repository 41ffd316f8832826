import { OutboxError, OutboxValidationError } from '../../core/foundation/errors.js';
import { type Queryable, sqlRunner } from '../../core/foundation/queryable.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../../core/foundation/schema-name.js';
import { type CredentialsCipher, CredentialsError } from './credentials-cipher.js';
import { type DeviceConfig, type DeviceTlsOptions, routerOsPort } from './device-config.js';

/** A device to register: how to reach it (see `DeviceConfig`), plus free-text notes. */
export interface NewDevice extends DeviceConfig {
  notes?: string | null;
}

/** Changes to a device; absent fields are kept. */
export type DevicePatch = Partial<Omit<NewDevice, 'name'>>;

/** A registered device as `get` and `list` show it: everything except the password. */
export interface DeviceInfo {
  readonly name: string;
  readonly tenantId: string | null;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly tlsOptions: DeviceTlsOptions;
  readonly username: string;
  /** Id of the credentials key the password is encrypted with (rotation). */
  readonly passwordKeyId: string;
  readonly enabled: boolean;
  readonly notes: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Options of `DeviceRegistry`. */
export interface DeviceRegistryOptions {
  db: Queryable;
  schema?: string;
  /** Needed to add devices, change passwords and resolve them; `list`/`get`/`remove` work without. */
  cipher?: CredentialsCipher;
}

interface DeviceRow {
  name: string;
  tenant_id: string | null;
  host: string;
  port: number;
  tls: boolean;
  tls_options: DeviceTlsOptions;
  username: string;
  password_encrypted: string;
  password_key_id: string;
  enabled: boolean;
  notes: string | null;
  created_at: Date;
  updated_at: Date;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Every column but the password, for reads that end up in output. */
const PUBLIC_COLUMNS =
  'name, tenant_id, host, port, tls, tls_options, username, password_key_id, enabled, notes, created_at, updated_at';

/**
 * The RouterOS device registry over `<schema>.devices`: passwords are encrypted with the
 * credentials key before they reach the database and are never part of what `get` and
 * `list` return.
 *
 * @example
 * const devices = new DeviceRegistry({ db, cipher: new CredentialsCipher({ key }) });
 * await devices.add({ name: 'tower-3', host: '10.0.0.3', username: 'api', password: 'pw', tenantId: 'wisp-1' });
 * await devices.list({ tenantId: 'wisp-1' }); // [{ name: 'tower-3', host: '10.0.0.3', ... }] without password
 */
export class DeviceRegistry {
  readonly #run: ReturnType<typeof sqlRunner>;
  readonly #s: string;
  readonly #cipher: CredentialsCipher | undefined;

  constructor(options: DeviceRegistryOptions) {
    this.#run = sqlRunner(options.db);
    this.#s = quoteSchema(options.schema ?? DEFAULT_SCHEMA);
    this.#cipher = options.cipher;
  }

  /** Registers a device. Throws `OutboxValidationError` for bad fields or a taken name. */
  async add(device: NewDevice): Promise<DeviceInfo> {
    validateName(device?.name);
    const fields = validateFields({ ...device }, true);
    const encrypted = this.#requireCipher().encrypt(fields.password!, device.name);
    const tls = normaliseTls(device.tls);
    try {
      const [row] = await this.#run<DeviceRow>(
        `insert into ${this.#s}.devices
           (name, tenant_id, host, port, tls, tls_options, username, password_encrypted, password_key_id, enabled, notes)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning ${PUBLIC_COLUMNS}`,
        [
          device.name,
          device.tenantId ?? null,
          device.host,
          routerOsPort({ port: device.port, tls: tls.enabled }),
          tls.enabled,
          JSON.stringify(tls.options),
          device.username,
          encrypted,
          this.#cipher!.keyId,
          device.enabled ?? true,
          device.notes ?? null,
        ],
      );
      return toInfo(row!);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new OutboxValidationError(
          'name',
          `a device named ${JSON.stringify(device.name)} already exists`,
        );
      }
      throw error;
    }
  }

  /** Changes a device. A new password is re-encrypted with the current key. */
  async update(name: string, patch: DevicePatch): Promise<DeviceInfo> {
    validateName(name);
    const fields = validateFields({ ...patch }, false);
    const sets: string[] = [];
    const values: unknown[] = [name];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (fields.host !== undefined) set('host', fields.host);
    if (fields.port !== undefined) set('port', fields.port);
    if (patch.tls !== undefined) {
      const tls = normaliseTls(patch.tls);
      set('tls', tls.enabled);
      set('tls_options', JSON.stringify(tls.options));
    }
    if (fields.username !== undefined) set('username', fields.username);
    if (fields.password !== undefined) {
      set('password_encrypted', this.#requireCipher().encrypt(fields.password, name));
      set('password_key_id', this.#cipher!.keyId);
    }
    if (patch.tenantId !== undefined) set('tenant_id', patch.tenantId);
    if (patch.enabled !== undefined) set('enabled', patch.enabled);
    if (patch.notes !== undefined) set('notes', patch.notes);
    sets.push('updated_at = now()');
    const [row] = await this.#run<DeviceRow>(
      `update ${this.#s}.devices set ${sets.join(', ')} where name = $1 returning ${PUBLIC_COLUMNS}`,
      values,
    );
    if (!row) throw new OutboxError('DEVICE_NOT_FOUND', `no device named ${JSON.stringify(name)}`);
    return toInfo(row);
  }

  /** Deletes a device; false when there was none by that name. */
  async remove(name: string): Promise<boolean> {
    const rows = await this.#run(`delete from ${this.#s}.devices where name = $1 returning name`, [name]);
    return rows.length > 0;
  }

  /** One device without its password, or undefined. */
  async get(name: string): Promise<DeviceInfo | undefined> {
    const [row] = await this.#run<DeviceRow>(
      `select ${PUBLIC_COLUMNS} from ${this.#s}.devices where name = $1`,
      [name],
    );
    return row && toInfo(row);
  }

  /** Devices by name, optionally of one tenant, without passwords. */
  async list(filter: { tenantId?: string } = {}): Promise<DeviceInfo[]> {
    const rows =
      filter.tenantId === undefined
        ? await this.#run<DeviceRow>(`select ${PUBLIC_COLUMNS} from ${this.#s}.devices order by name`)
        : await this.#run<DeviceRow>(
            `select ${PUBLIC_COLUMNS} from ${this.#s}.devices where tenant_id = $1 order by name`,
            [filter.tenantId],
          );
    return rows.map(toInfo);
  }

  /**
   * The device with its password decrypted, for connecting. The only method that returns a
   * password; keep the result in memory.
   */
  async resolve(name: string): Promise<DeviceConfig | undefined> {
    const [row] = await this.#run<DeviceRow>(`select * from ${this.#s}.devices where name = $1`, [name]);
    if (!row) return undefined;
    const tlsOptions = row.tls_options ?? {};
    return {
      name: row.name,
      host: row.host,
      port: row.port,
      tls: row.tls ? (Object.keys(tlsOptions).length > 0 ? tlsOptions : true) : false,
      username: row.username,
      password: this.#requireCipher().decrypt(row.password_encrypted, row.name),
      tenantId: row.tenant_id,
      enabled: row.enabled,
    };
  }

  /** Re-encrypts every password not made with the current key (after a rotation); returns how many. */
  async reEncrypt(): Promise<number> {
    const cipher = this.#requireCipher();
    const rows = await this.#run<Pick<DeviceRow, 'name' | 'password_encrypted'>>(
      `select name, password_encrypted from ${this.#s}.devices where password_key_id <> $1`,
      [cipher.keyId],
    );
    for (const row of rows) {
      const password = cipher.decrypt(row.password_encrypted, row.name);
      await this.#run(
        `update ${this.#s}.devices set password_encrypted = $2, password_key_id = $3, updated_at = now()
          where name = $1 and password_encrypted = $4`,
        [row.name, cipher.encrypt(password, row.name), cipher.keyId, row.password_encrypted],
      );
    }
    return rows.length;
  }

  #requireCipher(): CredentialsCipher {
    if (!this.#cipher) {
      throw new CredentialsError(
        'a credentials key is required to store or read device passwords: set OUTBOX_CREDENTIALS_KEY ' +
          '(32 bytes as hex or base64) and pass it as `cipher: new CredentialsCipher({ key })`',
      );
    }
    return this.#cipher;
  }
}

function validateName(name: unknown): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new OutboxValidationError(
      'name',
      `must be 1-128 characters of letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(name)}`,
    );
  }
}

function validateFields(device: DevicePatch, creating: boolean): DevicePatch {
  const requireText = (field: 'host' | 'username') => {
    const value = device[field];
    if (value === undefined && !creating) return;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new OutboxValidationError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
    }
  };
  requireText('host');
  requireText('username');
  if (
    device.port !== undefined &&
    (!Number.isInteger(device.port) || device.port < 1 || device.port > 65535)
  ) {
    throw new OutboxValidationError(
      'port',
      `must be an integer 1..65535, got ${JSON.stringify(device.port)}`,
    );
  }
  if ((creating || device.password !== undefined) && typeof device.password !== 'string') {
    // The value is never echoed: it may be a password typed into the wrong field.
    throw new OutboxValidationError('password', 'must be a string');
  }
  return device;
}

function normaliseTls(tls: boolean | DeviceTlsOptions | undefined): {
  enabled: boolean;
  options: DeviceTlsOptions;
} {
  if (tls === undefined || tls === false) return { enabled: false, options: {} };
  if (tls === true) return { enabled: true, options: {} };
  if (typeof tls !== 'object') throw new OutboxValidationError('tls', 'must be a boolean or TLS options');
  const { ca, fingerprint256, servername, anonymousDh } = tls;
  const options: DeviceTlsOptions = {};
  if (ca !== undefined) options.ca = ca;
  if (fingerprint256 !== undefined) options.fingerprint256 = fingerprint256;
  if (servername !== undefined) options.servername = servername;
  if (anonymousDh !== undefined) options.anonymousDh = anonymousDh;
  return { enabled: true, options };
}

function toInfo(row: DeviceRow): DeviceInfo {
  return {
    name: row.name,
    tenantId: row.tenant_id,
    host: row.host,
    port: row.port,
    tls: row.tls,
    tlsOptions: row.tls_options ?? {},
    username: row.username,
    passwordKeyId: row.password_key_id,
    enabled: row.enabled,
    notes: row.notes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
