/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      expiresIn\n      user {\n        id\n        email\n        role\n      }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation StartSession($deviceId: String) {\n    startLocationSession(input: { deviceId: $deviceId }) {\n      id\n      status\n      startedAt\n    }\n  }\n": typeof types.StartSessionDocument,
    "\n  mutation RecordLocation($sessionId: ID!, $location: LocationInput!) {\n    recordLocation(sessionId: $sessionId, location: $location) {\n      id\n      latitude\n      longitude\n      recordedAt\n    }\n  }\n": typeof types.RecordLocationDocument,
    "\n  mutation StopSession($id: ID!) {\n    stopLocationSession(id: $id) {\n      id\n      status\n      pointCount\n      endedAt\n    }\n  }\n": typeof types.StopSessionDocument,
    "\n  subscription LocationUpdated($sessionId: ID) {\n    locationUpdated(sessionId: $sessionId) {\n      session {\n        id\n        pointCount\n      }\n      point {\n        latitude\n        longitude\n        recordedAt\n      }\n    }\n  }\n": typeof types.LocationUpdatedDocument,
};
const documents: Documents = {
    "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      expiresIn\n      user {\n        id\n        email\n        role\n      }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation StartSession($deviceId: String) {\n    startLocationSession(input: { deviceId: $deviceId }) {\n      id\n      status\n      startedAt\n    }\n  }\n": types.StartSessionDocument,
    "\n  mutation RecordLocation($sessionId: ID!, $location: LocationInput!) {\n    recordLocation(sessionId: $sessionId, location: $location) {\n      id\n      latitude\n      longitude\n      recordedAt\n    }\n  }\n": types.RecordLocationDocument,
    "\n  mutation StopSession($id: ID!) {\n    stopLocationSession(id: $id) {\n      id\n      status\n      pointCount\n      endedAt\n    }\n  }\n": types.StopSessionDocument,
    "\n  subscription LocationUpdated($sessionId: ID) {\n    locationUpdated(sessionId: $sessionId) {\n      session {\n        id\n        pointCount\n      }\n      point {\n        latitude\n        longitude\n        recordedAt\n      }\n    }\n  }\n": types.LocationUpdatedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      expiresIn\n      user {\n        id\n        email\n        role\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($email: String!, $password: String!) {\n    login(email: $email, password: $password) {\n      accessToken\n      expiresIn\n      user {\n        id\n        email\n        role\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartSession($deviceId: String) {\n    startLocationSession(input: { deviceId: $deviceId }) {\n      id\n      status\n      startedAt\n    }\n  }\n"): (typeof documents)["\n  mutation StartSession($deviceId: String) {\n    startLocationSession(input: { deviceId: $deviceId }) {\n      id\n      status\n      startedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RecordLocation($sessionId: ID!, $location: LocationInput!) {\n    recordLocation(sessionId: $sessionId, location: $location) {\n      id\n      latitude\n      longitude\n      recordedAt\n    }\n  }\n"): (typeof documents)["\n  mutation RecordLocation($sessionId: ID!, $location: LocationInput!) {\n    recordLocation(sessionId: $sessionId, location: $location) {\n      id\n      latitude\n      longitude\n      recordedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StopSession($id: ID!) {\n    stopLocationSession(id: $id) {\n      id\n      status\n      pointCount\n      endedAt\n    }\n  }\n"): (typeof documents)["\n  mutation StopSession($id: ID!) {\n    stopLocationSession(id: $id) {\n      id\n      status\n      pointCount\n      endedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LocationUpdated($sessionId: ID) {\n    locationUpdated(sessionId: $sessionId) {\n      session {\n        id\n        pointCount\n      }\n      point {\n        latitude\n        longitude\n        recordedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription LocationUpdated($sessionId: ID) {\n    locationUpdated(sessionId: $sessionId) {\n      session {\n        id\n        pointCount\n      }\n      point {\n        latitude\n        longitude\n        recordedAt\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;