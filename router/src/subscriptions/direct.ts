import {
  execute,
  getNamedType,
  isObjectType,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { POINT_FIELD_NAMES, type LiveEvent } from '@lt/events';
import { eventVariables, type LiveOperation } from './operation';

/**
 * Fields a live location event carries (`LiveEvent.payload`), by type. `User.id` / `Tenant.id` are
 * the keys of the location subgraph's own entity references (the gateway answers them without
 * calling another subgraph); every other field of theirs lives elsewhere and needs the re-read.
 */
const CARRIED: Record<string, ReadonlySet<string>> = {
  LocationUpdate: new Set(['session', 'point']),
  LocationSession: new Set(['id', 'user', 'tenant', 'status', 'deviceId', 'startedAt', 'endedAt', 'pointCount']),
  LocationPoint: new Set(POINT_FIELD_NAMES),
  User: new Set(['id']),
  Tenant: new Set(['id']),
};

/** Directives graphql-js `execute` applies itself; anything else (custom) keeps the re-read. */
const EXECUTABLE_DIRECTIVES = new Set(['include', 'skip']);

/**
 * Whether a live operation can be served from its event's payload: a `locationUpdated`
 * subscription whose whole selection (fragments included) stays on carried fields, with no field
 * arguments, no custom directives and no fragments on other types. Decided once per group.
 */
export function servableFromEvent(schema: GraphQLSchema, op: LiveOperation): boolean {
  if (op.field !== 'locationUpdated') return false;
  const doc = op.refetch;
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const root = operation?.selectionSet.selections[0];
  if (!operation || operation.selectionSet.selections.length !== 1 || root?.kind !== Kind.FIELD) return false;
  if (!root.selectionSet || root.directives?.length) return false;
  const fragments = new Map(
    doc.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const directivesOk = (ds: readonly { name: { value: string } }[] | undefined) =>
    (ds ?? []).every((d) => EXECUTABLE_DIRECTIVES.has(d.name.value));

  // Bounded: a validated document has no fragment cycles; `seen` stops repeated spreads anyway.
  const walk = (set: SelectionSetNode, typeName: string, seen: Set<string>): boolean => {
    const carried = CARRIED[typeName];
    const type = schema.getType(typeName);
    if (!carried || !isObjectType(type)) return false;
    const fields = type.getFields();
    return set.selections.every((sel) => {
      if (!directivesOk(sel.directives)) return false;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (sel.typeCondition && sel.typeCondition.name.value !== typeName) return false;
        return walk(sel.selectionSet, typeName, seen);
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(sel.name.value);
        if (!f || f.typeCondition.name.value !== typeName || seen.has(f.name.value)) return false;
        return walk(f.selectionSet, typeName, new Set([...seen, f.name.value]));
      }
      if (sel.arguments?.length) return false;
      const name = sel.name.value;
      if (name === '__typename') return true;
      const field = fields[name];
      if (!carried.has(name) || !field) return false;
      const inner = getNamedType(field.type);
      if (!sel.selectionSet) return !isObjectType(inner);
      return isObjectType(inner) && walk(sel.selectionSet, inner.name, seen);
    });
  };
  return walk(root.selectionSet, 'LocationUpdate', new Set());
}

type LocationEvent = Extract<LiveEvent, { kind: 'location' }>;

/**
 * Serves one location event from its payload: graphql-js `execute` of the operation's own
 * re-read document (aliases, `__typename`, @include/@skip as the gateway would) over an
 * in-memory root holding the event's points, the shape `liveLocationUpdates` answers with.
 * Null when the event carries no payload (large batch: re-read instead).
 */
export function resolveFromEvent(schema: GraphQLSchema, op: LiveOperation, e: LocationEvent): ExecutionResult | null {
  if (!e.payload) return null;
  const s = e.payload.session;
  const session = {
    id: s.id,
    user: { id: s.userId },
    tenant: { id: e.tenantId },
    status: s.status,
    deviceId: s.deviceId,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    pointCount: s.pointCount,
  };
  const rootValue = { liveLocationUpdates: e.payload.points.map((point) => ({ session, point })) };
  const result = execute({
    schema,
    document: op.refetch as DocumentNode,
    rootValue,
    variableValues: eventVariables(op, { pointIds: e.points.map((p) => p.id) }),
    // The API schema has no resolvers of its own; be explicit that only the root value answers.
    fieldResolver: (source: Record<string, unknown>, _args, _ctx, info) => source[info.fieldName],
  });
  if (result instanceof Promise) throw new Error('in-memory live resolution must be synchronous');
  return result;
}
