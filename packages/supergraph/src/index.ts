/** Offline composition of supergraph.yaml (Rover's format) with @apollo/composition. */
export { composeFromConfig, readSupergraphConfig, type SubgraphEntry } from './compose';
