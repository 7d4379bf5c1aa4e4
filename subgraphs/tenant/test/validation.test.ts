import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { validateChanges, validateName, validateSlug } from '../src/validation';

function errorOf(fn: () => unknown): { code: unknown; field: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    const e = err as GraphQLError;
    return { code: e.extensions['code'], field: e.extensions['field'] };
  }
  throw new Error('expected an error');
}

describe('validateSlug', () => {
  it.each(['abc', 'acme-co', 'a1-b2-c3', 'x'.repeat(40), '---', '123'])('accepts %j', (slug) => {
    expect(validateSlug(slug)).toBe(slug);
  });

  it.each(['ab', 'x'.repeat(41), 'Acme', 'acme_co', 'acme co', ' acme', 'acme.', 'émile', ''])('refuses %j', (slug) => {
    expect(errorOf(() => validateSlug(slug))).toEqual({ code: 'BAD_USER_INPUT', field: 'slug' });
  });
});

describe('validateName', () => {
  it('trims', () => {
    expect(validateName('  Acme Corp \n')).toBe('Acme Corp');
  });
  it('accepts 1 and 100 characters', () => {
    expect(validateName('A')).toBe('A');
    expect(validateName('n'.repeat(100))).toBe('n'.repeat(100));
  });
  it.each(['', '   ', 'n'.repeat(101), ` ${'n'.repeat(101)} `])('refuses %j', (name) => {
    expect(errorOf(() => validateName(name))).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
  });
  it('counts length after trimming', () => {
    expect(validateName(`   ${'n'.repeat(100)}   `)).toBe('n'.repeat(100));
  });
});

describe('validateChanges', () => {
  it('leaves absent and null fields out', () => {
    expect(validateChanges({})).toEqual({});
    expect(validateChanges({ name: null, slug: null })).toEqual({});
  });
  it('validates what is given', () => {
    expect(validateChanges({ name: ' New ', slug: 'new-slug' })).toEqual({ name: 'New', slug: 'new-slug' });
    expect(errorOf(() => validateChanges({ slug: 'BAD' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'slug' });
    expect(errorOf(() => validateChanges({ name: ' ' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
  });
});
