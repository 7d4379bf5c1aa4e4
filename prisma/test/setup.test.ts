import { describe, expect, it } from 'vitest';
import { checkRolePassword, setupDatabase } from '../src/setup';

describe('role passwords (DB_OWNER_PASSWORD, DB_APP_PASSWORD)', () => {
  it('accepts the development defaults and ordinary strong passwords', () => {
    for (const ok of ['lt_owner_dev', 'lt_app_dev', "p@ss w'rd\\with-quotes", 'x'.repeat(128)])
      expect(() => checkRolePassword('DB_APP_PASSWORD', ok)).not.toThrow();
  });

  it.each([
    ['', 'must be 8–128 characters'],
    ['short', 'must be 8–128 characters'],
    ['x'.repeat(129), 'must be 8–128 characters'],
    ['line\nbreak-pass', 'must not contain control characters'],
    ['nul\u0000-password', 'must not contain control characters'],
    [' padded-password', 'must not start or end with white space'],
  ])('refuses %j, naming the variable and not the value', (bad, why) => {
    let err: Error | undefined;
    try {
      checkRolePassword('DB_OWNER_PASSWORD', bad);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toBe(`DB_OWNER_PASSWORD ${why}`);
  });

  it('setupDatabase checks both before connecting anywhere', async () => {
    const o = { adminUrl: 'postgresql://nobody@127.0.0.1:1/none', database: 'x', migrationsDir: '.' };
    await expect(setupDatabase({ ...o, ownerPassword: 'short', appPassword: 'lt_app_dev' })).rejects.toThrow(
      'DB_OWNER_PASSWORD must be 8–128 characters',
    );
    await expect(setupDatabase({ ...o, ownerPassword: 'lt_owner_dev', appPassword: 'tab\tin-it' })).rejects.toThrow(
      'DB_APP_PASSWORD must not contain control characters',
    );
  });
});
