import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/cli/config/load-config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');

describe('seed names of settings (aliases)', () => {
  it('reads CREDENTIALS_ENCRYPTION_KEY and PORT, and says which name gave the value', () => {
    const { config, sources, aliasesUsed } = loadConfig({ CREDENTIALS_ENCRYPTION_KEY: KEY, PORT: '4000' });
    expect(config.credentialsKey).toBe(KEY);
    expect(config.httpPort).toBe(4000);
    expect(sources.HTTP_PORT).toBe('env');
    expect(aliasesUsed).toEqual({ OUTBOX_CREDENTIALS_KEY: 'CREDENTIALS_ENCRYPTION_KEY', HTTP_PORT: 'PORT' });
  });

  it('lets the canonical name win when both are set', () => {
    const { config, aliasesUsed } = loadConfig({
      OUTBOX_CREDENTIALS_KEY: KEY,
      CREDENTIALS_ENCRYPTION_KEY: OTHER_KEY,
      HTTP_PORT: '9090',
      PORT: '4000',
    });
    expect(config.credentialsKey).toBe(KEY);
    expect(config.httpPort).toBe(9090);
    expect(aliasesUsed).toEqual({});
  });

  it('names the alias in a problem', () => {
    expect(() => loadConfig({ PORT: 'http' })).toThrow('PORT must be an integer 0..65535, got "http"');
  });
});

describe("libpq's PG* variables", () => {
  const PG = {
    PGHOST: 'db.internal',
    PGPORT: '6432',
    PGDATABASE: 'mordecai',
    PGUSER: 'worker',
    PGPASSWORD: 'p@ss:w/rd',
    PGSSLMODE: 'require',
  };

  it('build the connection string when DATABASE_URL is unset, and never print the password', () => {
    const { config, sources, aliasesUsed } = loadConfig(PG, {}, { requireDatabase: true });
    const url = new URL(config.databaseUrl!);
    expect(url.hostname).toBe('db.internal');
    expect(url.port).toBe('6432');
    expect(url.pathname).toBe('/mordecai');
    expect(decodeURIComponent(url.username)).toBe('worker');
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd');
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(sources.DATABASE_URL).toBe('env');
    expect(aliasesUsed.DATABASE_URL).toBe('PG* variables');
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('p@ss');
    expect(printed).not.toContain(encodeURIComponent('p@ss:w/rd'));
  });

  it('keep a socket directory in ?host=', () => {
    const { config } = loadConfig({ PGHOST: '/var/run/postgresql', PGUSER: 'app' });
    expect(new URL(config.databaseUrl!).searchParams.get('host')).toBe('/var/run/postgresql');
  });

  it('are ignored when DATABASE_URL is set', () => {
    const { config } = loadConfig({ ...PG, DATABASE_URL: 'postgres://a@b/c' });
    expect(config.databaseUrl).toBe('postgres://a@b/c');
  });

  it('leave DATABASE_URL required when none is set', () => {
    expect(() => loadConfig({}, {}, { requireDatabase: true })).toThrow('DATABASE_URL is required');
  });
});
