import { badUserInput } from '@lt/errors';

/** Lowercase letters, digits and hyphens, 3–40 characters. */
const SLUG = /^[a-z0-9-]{3,40}$/;
export const NAME_MAX = 100;

/** A valid slug, else BAD_USER_INPUT naming `field`. Never lowercases for the caller: the rule is visible. */
export function validateSlug(value: string, field = 'slug'): string {
  if (!SLUG.test(value)) {
    throw badUserInput('Slug must be 3–40 characters of lowercase letters, digits and hyphens', field);
  }
  return value;
}

/** The trimmed name (1–100 characters), else BAD_USER_INPUT naming `field`. */
export function validateName(value: string, field = 'name'): string {
  const name = value.trim();
  if (name.length < 1 || name.length > NAME_MAX) {
    throw badUserInput(`Name must be 1–${NAME_MAX} characters`, field);
  }
  return name;
}

export interface TenantChanges {
  name?: string;
  slug?: string;
  retentionDays?: number | null;
  maxAccuracyMeters?: number | null;
  maxSpeedMps?: number | null;
  dropDuplicates?: boolean;
}

export interface TenantSettingsInput {
  retentionDays?: number | null;
  maxAccuracyMeters?: number | null;
  maxSpeedMetersPerSecond?: number | null;
  dropDuplicates?: boolean | null;
}

/** Default of POINT_RETENTION_MAX_DAYS: the longest retention a tenant may choose. */
export const DEFAULT_MAX_RETENTION_DAYS = 365;

/**
 * Validates TenantSettingsInput (absent: unchanged; null: cleared). Errors name
 * `input.settings.<field>`.
 */
export function validateSettings(input: TenantSettingsInput, maxRetentionDays: number): TenantChanges {
  const changes: TenantChanges = {};
  const field = (name: string) => `input.settings.${name}`;
  const positive = (v: number | null | undefined, name: string, what: string): number | null | undefined => {
    if (v === undefined || v === null) return v;
    if (!Number.isFinite(v) || v <= 0 || v > 1e9) throw badUserInput(`${what} must be a number > 0`, field(name));
    return v;
  };
  const r = input.retentionDays;
  if (r !== undefined) {
    if (r !== null && (!Number.isInteger(r) || r < 1 || r > maxRetentionDays))
      throw badUserInput(`retentionDays must be an integer from 1 to ${maxRetentionDays}`, field('retentionDays'));
    changes.retentionDays = r;
  }
  const acc = positive(input.maxAccuracyMeters, 'maxAccuracyMeters', 'maxAccuracyMeters');
  if (acc !== undefined) changes.maxAccuracyMeters = acc;
  const spd = positive(input.maxSpeedMetersPerSecond, 'maxSpeedMetersPerSecond', 'maxSpeedMetersPerSecond');
  if (spd !== undefined) changes.maxSpeedMps = spd;
  if (input.dropDuplicates !== undefined) changes.dropDuplicates = input.dropDuplicates ?? false;
  return changes;
}

/**
 * Validates an UpdateTenantInput; absent or null fields are left unchanged. Errors name the input
 * field itself (`slug`, `name`), the same name a slug CONFLICT carries.
 */
export function validateChanges(
  input: { name?: string | null; slug?: string | null; settings?: TenantSettingsInput | null },
  maxRetentionDays = DEFAULT_MAX_RETENTION_DAYS,
): TenantChanges {
  const changes: TenantChanges = input.settings ? validateSettings(input.settings, maxRetentionDays) : {};
  if (input.name !== undefined && input.name !== null) changes.name = validateName(input.name);
  if (input.slug !== undefined && input.slug !== null) changes.slug = validateSlug(input.slug);
  return changes;
}
