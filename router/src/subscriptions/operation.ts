import {
  GraphQLBoolean,
  GraphQLID,
  Kind,
  print,
  valueFromAST,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { badUserInput } from '@lt/errors';

/** The subscription root fields the engine serves, with the query that re-reads one event of each. */
export const LIVE_FIELDS = {
  locationUpdated: { refetchField: 'liveLocationUpdates', eventArgs: ['pointIds'] },
  sessionEvents: { refetchField: 'liveSessionEvent', eventArgs: ['sessionId', 'type', 'at'] },
  geofenceEvents: { refetchField: 'liveGeofenceEvents', eventArgs: ['eventIds'] },
} as const;
export type LiveField = keyof typeof LIVE_FIELDS;

const EVENT_VAR_TYPES: Record<string, string> = {
  sessionId: 'ID!',
  pointIds: '[ID!]!',
  eventIds: '[ID!]!',
  type: 'SessionEventType!',
  at: 'DateTime!',
};
/** Prefix of the engine's own variables; client variables with it are refused. */
const PREFIX = '__live_';

export interface LiveOperation {
  field: LiveField;
  /** `locationUpdated(sessionId:)` / `geofenceEvents(sessionId:)` argument, when given. */
  sessionId: string | null;
  /** `geofenceEvents(geofenceId:)` argument, when given. */
  geofenceId: string | null;
  /**
   * `locationUpdated(includeLatest: true)`: the subscriber gets the snapshot first. Not part of
   * `key`: snapshot and plain subscribers of the same selection share one live group.
   */
  includeLatest: boolean;
  /**
   * The subscription's selection re-expressed as a query on the refetch field, so one event is
   * resolved through the supergraph (federated fields included) exactly as the client selected it:
   * `query ($__live_sessionId: ID!, …) { <alias>: liveLocationUpdates(…) { <selection> } }`
   * (a list: one execution per committed batch; each item is one subscription payload).
   */
  refetch: DocumentNode;
  /** Client variables the refetch still uses (nested field arguments). */
  variables: Record<string, unknown>;
  /** Identical subscriptions share one upstream source: same key ⇒ same results for the same scope. */
  key: string;
}

/**
 * The `sessionId` argument as the HTTP path coerces it (an ID: a string, or an Int literal as its
 * decimal string), from the literal or the (coerced) variables. Absent, or a variable not given:
 * null (every session the caller may see). Anything else is refused, never read as "absent".
 */
function sessionIdArg(field: FieldNode, variables: Record<string, unknown>, name = 'sessionId'): string | null {
  const arg = field.arguments?.find((a) => a.name.value === name);
  if (!arg) return null;
  if (arg.value.kind === Kind.VARIABLE && variables[arg.value.name.value] === undefined) return null;
  const value = valueFromAST(arg.value, GraphQLID, variables);
  if (value === null) return null;
  if (typeof value !== 'string') throw badUserInput(`${name} must be an ID`, name);
  return value;
}

/** The `includeLatest` argument (literal or variable; validated as a Boolean already). */
function includeLatestArg(field: FieldNode, variables: Record<string, unknown>): boolean {
  const arg = field.arguments?.find((a) => a.name.value === 'includeLatest');
  if (!arg) return false;
  return valueFromAST(arg.value, GraphQLBoolean, variables) === true;
}

/** Variable names used anywhere in these nodes. */
function usedVariables(nodes: readonly (SelectionSetNode | FragmentDefinitionNode)[]): Set<string> {
  const used = new Set<string>();
  for (const n of nodes)
    visit(n, {
      Variable(v) {
        used.add(v.name.value);
      },
    });
  return used;
}

/**
 * Analyses a validated subscription operation (one root field, per the spec) and builds the query
 * that re-reads one event. Throws BAD_USER_INPUT for anything the engine does not serve.
 */
export function analyseSubscription(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): LiveOperation {
  const root = operation.selectionSet.selections[0];
  if (operation.selectionSet.selections.length !== 1 || root?.kind !== Kind.FIELD || root.directives?.length)
    throw badUserInput('A subscription selects exactly one root field, without directives', 'query');
  const name = root.name.value;
  if (!(name in LIVE_FIELDS)) throw badUserInput(`Unknown subscription field ${name}`, 'query');
  const field = name as LiveField;
  if (operation.variableDefinitions?.some((d) => d.variable.name.value.startsWith(PREFIX)))
    throw badUserInput(`Variable names starting with ${PREFIX} are reserved`, 'variables');

  const sessionIdValue = field !== 'sessionEvents' ? sessionIdArg(root, variables) : null;
  const geofenceIdValue = field === 'geofenceEvents' ? sessionIdArg(root, variables, 'geofenceId') : null;
  const includeLatest = field === 'locationUpdated' && includeLatestArg(root, variables);

  const fragments = document.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  // Client variables still used by the selection (nested arguments) or its fragments are kept.
  const used = usedVariables([...(root.selectionSet ? [root.selectionSet] : []), ...fragments]);
  const keptDefs = (operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  const { refetchField, eventArgs } = LIVE_FIELDS[field];
  const eventDefs: VariableDefinitionNode[] = eventArgs.map((a) => ({
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: PREFIX + a } },
    type: typeNode(EVENT_VAR_TYPES[a]!),
  }));
  const refetchRoot: FieldNode = {
    ...root,
    alias: root.alias ?? { kind: Kind.NAME, value: field },
    name: { kind: Kind.NAME, value: refetchField },
    arguments: eventArgs.map((a) => ({
      kind: Kind.ARGUMENT,
      name: { kind: Kind.NAME, value: a },
      value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: PREFIX + a } },
    })),
  };
  const refetch: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as never,
        ...(operation.name ? { name: operation.name } : {}),
        variableDefinitions: [...keptDefs, ...eventDefs],
        selectionSet: { kind: Kind.SELECTION_SET, selections: [refetchRoot] },
      } as OperationDefinitionNode,
      ...fragments,
    ],
  };
  const kept: Record<string, unknown> = {};
  for (const d of keptDefs) {
    const n = d.variable.name.value;
    if (n in variables) kept[n] = variables[n];
  }
  return {
    field,
    sessionId: sessionIdValue,
    geofenceId: geofenceIdValue,
    includeLatest,
    refetch,
    variables: kept,
    key: `${field}|${sessionIdValue ?? '*'}|${geofenceIdValue ?? '*'}|${print(refetch)}|${stableJson(kept)}`,
  };
}

/** The variables for re-reading one event with {@link LiveOperation.refetch}. */
export function eventVariables(op: LiveOperation, event: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = { ...op.variables };
  for (const a of LIVE_FIELDS[op.field].eventArgs) vars[PREFIX + a] = event[a];
  return vars;
}

function typeNode(t: string): VariableDefinitionNode['type'] {
  if (t.endsWith('!')) return { kind: Kind.NON_NULL_TYPE, type: typeNode(t.slice(0, -1)) as never };
  if (t.startsWith('[')) return { kind: Kind.LIST_TYPE, type: typeNode(t.slice(1, -1)) };
  return { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: t } };
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}
