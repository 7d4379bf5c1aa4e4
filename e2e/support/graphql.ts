/** The tests' GraphQL-over-HTTP client lives in @lt/testing, shared with the packages' own tests. */
export { codes, gql, type GraphQLResponse } from '@lt/testing';
