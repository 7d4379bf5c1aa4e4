import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import {
  buildASTSchema,
  getNamedType,
  isNonNullType,
  GraphQLError,
  Kind,
  parse,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldNode,
} from 'graphql';
import type { Membership } from '@lt/context';
import { ErrorCode } from '@lt/errors';
import type { RouterContext } from '../gateway/dataSource';

/** One access rule from the SDL: `@authenticated`, or `@requiresScopes` (OR of AND-lists). */
export interface AccessRule {
  authenticated: boolean;
  scopes: string[][] | null;
}

/** Rules by `Type` and `Type.field`, read from the full supergraph SDL (it keeps the directives). */
export interface AccessRules {
  types: Map<string, AccessRule>;
  fields: Map<string, AccessRule>;
}

function ruleOf(directives: readonly ConstDirectiveNode[] | undefined): AccessRule | null {
  let rule = null as AccessRule | null;
  for (const d of directives ?? []) {
    if (d.name.value === 'authenticated') rule = { authenticated: true, scopes: rule ? rule.scopes : null };
    if (d.name.value === 'requiresScopes') {
      const arg = d.arguments?.find((a) => a.name.value === 'scopes')?.value;
      const scopes =
        arg?.kind === Kind.LIST
          ? arg.values.map((inner) =>
              inner.kind === Kind.LIST ? inner.values.map((v) => (v.kind === Kind.STRING ? v.value : '')) : [],
            )
          : [];
      rule = { authenticated: true, scopes };
    }
  }
  return rule;
}

export function readAccessRules(supergraphSdl: string): AccessRules {
  const rules: AccessRules = { types: new Map(), fields: new Map() };
  for (const def of parse(supergraphSdl).definitions) {
    if (
      def.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      def.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      def.kind !== Kind.INTERFACE_TYPE_DEFINITION
    )
      continue;
    const typeRule = ruleOf(def.directives);
    if (typeRule) rules.types.set(def.name.value, typeRule);
    for (const f of def.fields ?? []) {
      const r = ruleOf(f.directives);
      if (r) rules.fields.set(`${def.name.value}.${f.name.value}`, r);
    }
  }
  return rules;
}

/** Roles are the scopes: `@requiresScopes(scopes: [["TENANT_ADMIN"]])` names roles. */
export function allowed(rule: AccessRule, m: Membership | null): boolean {
  if (!m) return false;
  if (!rule.scopes) return true;
  return rule.scopes.some((all) => all.every((s) => s === m.role));
}

export interface Removal {
  path: string[];
  /** For each path segment: whether that field may be null (false = non-null type). */
  nullable: boolean[];
}

/**
 * Puts `null` where removed fields were, the way GraphQL execution does for a field error: a
 * non-null field's null goes up to the nearest nullable ancestor, up to `data` itself.
 */
export function applyRemovals(
  data: Record<string, unknown> | null,
  removed: Removal[],
): Record<string, unknown> | null {
  if (data === null) return null;
  for (const r of removed) {
    let k = r.path.length - 1;
    while (k >= 0 && !r.nullable[k]) k--;
    if (k < 0) return null;
    const setNull = (value: unknown, depth: number): void => {
      if (Array.isArray(value)) {
        for (const v of value) setNull(v, depth);
        return;
      }
      if (value === null || typeof value !== 'object') return;
      const o = value as Record<string, unknown>;
      if (depth === k) o[r.path[k]!] = null;
      else setNull(o[r.path[depth]!], depth + 1);
    };
    setNull(data, 0);
  }
  return data;
}

/**
 * Removes the fields the caller may not see (field rule, or a rule on the type it returns) and any
 * selection left empty by that. Returns the new document and the response paths removed.
 */
export function filterDocument(
  schema: ReturnType<typeof buildASTSchema>,
  rules: AccessRules,
  document: DocumentNode,
  membership: Membership | null,
): { document: DocumentNode; removed: Removal[] } {
  const typeInfo = new TypeInfo(schema);
  const removed: Removal[] = [];
  const path: string[] = [];
  const nullable: boolean[] = [];
  const check = (parent: string, field: string, returns: string | undefined): boolean => {
    const r = rules.fields.get(`${parent}.${field}`);
    if (r && !allowed(r, membership)) return false;
    const t = returns ? rules.types.get(returns) : undefined;
    return !t || allowed(t, membership);
  };
  const out = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node: FieldNode) {
          const parent = typeInfo.getParentType()?.name;
          const def = typeInfo.getFieldDef();
          const key = node.alias?.value ?? node.name.value;
          const canBeNull = !def || !isNonNullType(def.type);
          if (parent && def && !check(parent, node.name.value, getNamedType(def.type)?.name)) {
            removed.push({ path: [...path, key], nullable: [...nullable, canBeNull] });
            return null;
          }
          path.push(key);
          nullable.push(canBeNull);
          return undefined;
        },
        leave(node: FieldNode) {
          path.pop();
          const canBeNull = nullable.pop() ?? true;
          if (node.selectionSet && node.selectionSet.selections.length === 0) {
            removed.push({ path: [...path, node.alias?.value ?? node.name.value], nullable: [...nullable, canBeNull] });
            return null;
          }
          return undefined;
        },
      },
    }),
  );
  return { document: out, removed };
}

const unauthorized = (path: string[]) =>
  new GraphQLError('Unauthorized field or type', {
    path,
    extensions: { code: ErrorCode.UNAUTHORIZED_FIELD_OR_TYPE },
  }).toJSON();

/**
 * Enforces `@authenticated` / `@requiresScopes` before the gateway plans (Apollo Router's
 * behaviour, which @apollo/gateway lacks): unauthorized fields are removed from the operation,
 * answered with `null` and one UNAUTHORIZED_FIELD_OR_TYPE error each. The query-plan cache key
 * includes what was removed, so plans never leak between callers. Subgraphs check again.
 */
export function authorizationPlugin(
  supergraphSdl: string,
  o: { cacheSize?: number } = {},
): ApolloServerPlugin<RouterContext> {
  const rules = readAccessRules(supergraphSdl);
  const schema = buildASTSchema(parse(supergraphSdl), { assumeValidSDL: true });
  // What the filter decides depends only on the operation and the caller's role (roles are the
  // scopes; no membership = unauthenticated), so it is computed once per (operation, role).
  const cacheSize = o.cacheSize ?? 1_000;
  const cache = new Map<string, { document: DocumentNode; removed: Removal[]; queryHash: string }>();
  const filterFor = (rc: GraphQLRequestContext<RouterContext>) => {
    const membership = rc.contextValue.caller.membership;
    const key = `${membership ? membership.role : ''}\n${rc.queryHash!}`;
    let hit = cache.get(key);
    if (!hit) {
      const filtered = filterDocument(schema, rules, rc.document!, membership);
      const queryHash = filtered.removed.length
        ? createHash('sha256')
            .update(rc.queryHash!)
            .update(JSON.stringify(filtered.removed.map((r) => r.path)))
            .digest('hex')
        : rc.queryHash!;
      hit = { ...filtered, queryHash };
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    async requestDidStart() {
      let removed: Removal[] = [];
      return {
        async responseForOperation(rc: GraphQLRequestContext<RouterContext>) {
          const filtered = filterFor(rc);
          removed = filtered.removed;
          if (removed.length === 0) return null;
          const op = filtered.document.definitions.find(
            (d) => d.kind === Kind.OPERATION_DEFINITION && (!rc.operationName || d.name?.value === rc.operationName),
          );
          if (!op || (op.kind === Kind.OPERATION_DEFINITION && op.selectionSet.selections.length === 0)) {
            // Nothing left to run: answer without calling any subgraph.
            const data = applyRemovals(
              {},
              removed.filter((r) => r.path.length === 1),
            );
            const errors = removed.map((r) => unauthorized(r.path));
            removed = [];
            return { http: rc.response.http, body: { kind: 'single', singleResult: { data, errors } } };
          }
          const mutable = rc as { document: DocumentNode; queryHash: string };
          mutable.document = filtered.document;
          mutable.queryHash = filtered.queryHash;
          return null;
        },
        async willSendResponse(rc) {
          if (removed.length === 0 || rc.response.body.kind !== 'single') return;
          const result = rc.response.body.singleResult;
          result.data = applyRemovals((result.data ?? {}) as Record<string, unknown>, removed);
          result.errors = [...(result.errors ?? []), ...removed.map((r) => unauthorized(r.path))];
        },
      };
    },
  };
}
