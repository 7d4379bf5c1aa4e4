/** Starts the router and the four subgraphs in one process (npm start, e2e tests, benchmarks). */
export { startStack, type Stack, type StackOptions } from './startStack';
