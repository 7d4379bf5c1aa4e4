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
}

/**
 * Validates an UpdateTenantInput; absent or null fields are left unchanged. Errors name the input
 * field itself (`slug`, `name`), the same name a slug CONFLICT carries.
 */
export function validateChanges(input: { name?: string | null; slug?: string | null }): TenantChanges {
  const changes: TenantChanges = {};
  if (input.name !== undefined && input.name !== null) changes.name = validateName(input.name);
  if (input.slug !== undefined && input.slug !== null) changes.slug = validateSlug(input.slug);
  return changes;
}
