import type { Migration } from './migration.js';

/**
 * The RouterOS device registry. Passwords are stored only as AES-256-GCM ciphertext
 * (`password_encrypted`, with the id of the key that made it so rotation can find old rows);
 * the column never holds a password in clear.
 */
export const devicesMigration: Migration = {
  version: 2,
  name: 'devices',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new table (RouterOS devices); older relays never read it',
  },
  sql: (s) => `
create table ${s}.devices (
  -- The name is the ordering key and the destination suffix (routeros:<name>), so it is
  -- unique across tenants and limited to characters that are safe in both.
  name                text primary key check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  tenant_id           text,
  host                text not null check (host <> ''),
  port                int not null check (port between 1 and 65535),
  tls                 boolean not null default false,
  tls_options         jsonb not null default '{}',
  username            text not null check (username <> ''),
  password_encrypted  text not null,
  password_key_id     text not null,
  enabled             boolean not null default true,
  notes               text,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);

-- Listing one tenant's routers (CLI, admin pages).
create index devices_tenant_idx on ${s}.devices (tenant_id, name);
`,
};
