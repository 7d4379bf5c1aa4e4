import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler } from 'express';
import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '@lt/errors';
import type { RouterContext } from '../gateway/dataSource';

/** Operation limits (documented defaults; a request over any is refused before planning). */
export interface OperationLimits {
  /** Max nesting of selections. Default 12. */
  maxDepth?: number;
  /** Max aliased fields in the operation. Default 30. */
  maxAliases?: number;
  /** Max fields at the root of the operation. Default 20. */
  maxRootFields?: number;
}

export interface OperationShape {
  depth: number;
  aliases: number;
  rootFields: number;
}

/** Measures an operation, following fragment spreads (each fragment counted once per path). */
export function measureOperation(
  op: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
): OperationShape {
  let aliases = 0;
  const walk = (set: SelectionSetNode, depth: number, seen: Set<string>): number => {
    let max = depth;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.alias) aliases++;
        if (s.selectionSet) max = Math.max(max, walk(s.selectionSet, depth + 1, seen));
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, walk(s.selectionSet, depth, seen));
      } else {
        const f = fragments[s.name.value];
        if (f && !seen.has(f.name.value))
          max = Math.max(max, walk(f.selectionSet, depth, new Set([...seen, f.name.value])));
      }
    }
    return max;
  };
  const rootFields = new Set<string>();
  const collectRoot = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) rootFields.add(s.alias?.value ?? s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) collectRoot(s.selectionSet, seen);
      else {
        const f = fragments[s.name.value];
        if (f && !seen.has(f.name.value)) collectRoot(f.selectionSet, new Set([...seen, f.name.value]));
      }
    }
  };
  collectRoot(op.selectionSet, new Set());
  const depth = walk(op.selectionSet, 1, new Set());
  return { depth, aliases, rootFields: rootFields.size };
}

const exceeded = (what: string, max: number, actual: number): GraphQLError =>
  new GraphQLError(`Operation exceeds the ${what} limit (${actual} > ${max})`, {
    extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: what, max, actual, http: { status: 400 } },
  });

/** Refuses operations over the depth / alias / root-field limits with OPERATION_LIMIT_EXCEEDED. */
export function limitsPlugin(limits: OperationLimits = {}): ApolloServerPlugin<RouterContext> {
  const max = {
    depth: limits.maxDepth ?? 12,
    aliases: limits.maxAliases ?? 30,
    rootFields: limits.maxRootFields ?? 20,
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document }) {
          if (!operation) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
          const shape = measureOperation(operation, fragments);
          if (shape.depth > max.depth) throw exceeded('depth', max.depth, shape.depth);
          if (shape.aliases > max.aliases) throw exceeded('aliases', max.aliases, shape.aliases);
          if (shape.rootFields > max.rootFields) throw exceeded('rootFields', max.rootFields, shape.rootFields);
        },
      };
    },
  };
}

/** Express error handler after `express.json`: a body over the limit is a GraphQL-shaped 413. */
export const bodyLimitErrorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large') {
    res.status(413).json({
      errors: [
        {
          message: `Request body exceeds ${e.limit ?? 'the'} bytes`,
          extensions: { code: ErrorCode.OPERATION_LIMIT_EXCEEDED, limit: 'bodySize', max: e.limit ?? null },
        },
      ],
    });
    return;
  }
  if (e?.type === 'entity.parse.failed') {
    res.status(400).json({ errors: [{ message: 'Malformed JSON body', extensions: { code: ErrorCode.BAD_REQUEST } }] });
    return;
  }
  next(err);
};
