import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { badUserInput } from '@lt/errors';

/**
 * What a scalar parses an invalid value to (instead of throwing): the argument guard below turns
 * it into BAD_USER_INPUT naming the input path, which graphql-js's own errors cannot do.
 */
export class InvalidInput {
  constructor(readonly message: string) {}
}

/** `locations[3].recordedAt` from ['locations', 3, 'recordedAt']. */
const fieldName = (path: (string | number)[]): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');

/**
 * Checks every argument value of a field, at any depth: a string with a NUL character (Postgres
 * cannot store one in text, and no identifier, name or key needs one) or a value a scalar parsed
 * to {@link InvalidInput} is BAD_USER_INPUT naming the path (`input.deviceId`,
 * `locations[3].idempotencyKey`). Nothing has been read or written when it throws.
 */
export function checkArguments(args: Record<string, unknown>): void {
  // One path stack for the whole walk (a batch of 1,000 points has ~10,000 values): the path is
  // only turned into a name when a value is refused.
  const path: (string | number)[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.includes('\u0000')) throw badUserInput('Text must not contain NUL characters', fieldName(path));
    } else if (value === null || typeof value !== 'object' || value instanceof Date) {
      return;
    } else if (value instanceof InvalidInput) {
      throw badUserInput(value.message, fieldName(path));
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
    } else {
      for (const k in value) {
        if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
        path.push(k);
        walk((value as Record<string, unknown>)[k]);
        path.pop();
      }
    }
  };
  for (const k of Object.keys(args)) {
    path.push(k);
    walk(args[k]);
    path.pop();
  }
}

/**
 * Puts {@link checkArguments} in front of the resolver of every field that takes arguments (entity
 * representations included), so each subgraph refuses these inputs in one place.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args: Record<string, unknown>, ctx, info) => {
        checkArguments(args);
        return resolve(source, args, ctx, info);
      };
    }
  }
  return schema;
}
