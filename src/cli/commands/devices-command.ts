import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';
import { ConfigError } from '../../core/foundation/errors.js';
import { formatTable } from './format-table.js';

const USAGE = `Usage:
  outbox-relay devices add --name <name> --host <host> --username <user> (--password <pw> | --password-stdin)
                           [--port <port>] [--tls] [--tenant <id>] [--notes <text>]
  outbox-relay devices list [--tenant <id>] [--json]
  outbox-relay devices remove <name>

The RouterOS device registry. Passwords are encrypted with OUTBOX_CREDENTIALS_KEY before they
reach the database and are never printed. Commands for a device go to destination routeros:<name>.
Prefer --password-stdin: a --password flag is visible in the process list.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** `outbox-relay devices add|list|remove`. */
export const devicesCommand: Command = {
  name: 'devices',
  summary: 'add, list or remove RouterOS devices (passwords stored encrypted)',
  usage: USAGE,
  flags: {
    name: { type: 'string', description: 'device name (destination routeros:<name>)' },
    host: { type: 'string', description: 'router address' },
    port: { type: 'string', description: 'API port (default 8728, 8729 with --tls)' },
    tls: { type: 'boolean', description: 'use API-SSL' },
    username: { type: 'string', description: 'API user' },
    password: { type: 'string', description: 'API password (visible in ps; prefer --password-stdin)' },
    'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
    tenant: { type: 'string', description: 'tenant id' },
    notes: { type: 'string', description: 'free text' },
    json: { type: 'boolean', description: 'JSON output (list)' },
  },
  async run(ctx) {
    const [sub, arg, extra] = ctx.args;
    if (sub !== 'add' && sub !== 'list' && sub !== 'remove') {
      throw new UsageError(
        sub ? `unknown devices subcommand "${sub}"` : 'devices needs add, list or remove',
        USAGE,
      );
    }
    if (extra !== undefined || (sub !== 'remove' && arg !== undefined))
      throw new UsageError('unexpected argument', USAGE);
    const f = ctx.flags;
    let password: string | undefined;
    if (sub === 'add') {
      const missing = ['name', 'host', 'username'].filter((k) => typeof f[k] !== 'string');
      if (f.password === undefined && f['password-stdin'] !== true) missing.push('password');
      if (missing.length)
        throw new UsageError(`devices add needs ${missing.map((m) => `--${m}`).join(', ')}`, USAGE);
      if (f.port !== undefined && !/^\d+$/.test(String(f.port)))
        throw new UsageError(`--port must be a number, got "${f.port}"`);
      password = f['password-stdin'] === true ? await readStdin() : String(f.password);
    }
    if (sub === 'remove' && !arg) throw new UsageError('devices remove needs a device name', USAGE);
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const ros = await import('../../publishers/routeros/index.js');
      if (sub === 'add' && !config.credentialsKey) {
        throw new ConfigError([
          'OUTBOX_CREDENTIALS_KEY is required to add devices (32 bytes as base64 or hex)',
        ]);
      }
      const cipher = config.credentialsKey
        ? new ros.CredentialsCipher({ key: config.credentialsKey })
        : undefined;
      const registry = new ros.DeviceRegistry({
        db: database.db,
        schema: config.schema,
        ...(cipher ? { cipher } : {}),
      });
      if (sub === 'add') {
        const d = await registry.add({
          name: String(f.name),
          host: String(f.host),
          username: String(f.username),
          password: password!,
          ...(f.port !== undefined ? { port: Number(f.port) } : {}),
          ...(f.tls === true ? { tls: true } : {}),
          ...(typeof f.tenant === 'string' ? { tenantId: f.tenant } : {}),
          ...(typeof f.notes === 'string' ? { notes: f.notes } : {}),
        });
        ctx.stdout.write(
          `added device ${d.name} (${d.host}:${d.port}${d.tls ? ', TLS' : ''}); commands go to routeros:${d.name}\n`,
        );
        return EXIT_OK;
      }
      if (sub === 'remove') {
        const removed = await registry.remove(arg!);
        ctx.stdout.write(removed ? `removed device ${arg}\n` : `no device named ${arg}\n`);
        return removed ? EXIT_OK : EXIT_FAILURE;
      }
      const devices = await registry.list(typeof f.tenant === 'string' ? { tenantId: f.tenant } : {});
      if (f.json === true) {
        ctx.stdout.write(`${JSON.stringify(devices)}\n`);
        return EXIT_OK;
      }
      ctx.stdout.write(
        formatTable([
          ['name', 'tenant', 'host', 'port', 'tls', 'user', 'enabled'],
          ...devices.map((d) => [
            d.name,
            d.tenantId ?? '-',
            d.host,
            String(d.port),
            String(d.tls),
            d.username,
            String(d.enabled),
          ]),
        ]),
      );
      return EXIT_OK;
    });
  },
};
