import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, printSchema } from 'graphql';
import YAML from 'yaml';

export interface SubgraphEntry {
  name: string;
  url: string;
  /** Absolute path of the SDL file. */
  file: string;
  sdl: string;
}

/** Reads Rover's supergraph.yaml (`subgraphs.<name>.routing_url` + `schema.file`). */
export function readSupergraphConfig(configPath: string): SubgraphEntry[] {
  const doc = YAML.parse(readFileSync(configPath, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  const base = dirname(configPath);
  return Object.entries(doc.subgraphs ?? {}).map(([name, s]) => {
    if (!s.routing_url || !s.schema?.file)
      throw new Error(`supergraph.yaml: subgraph ${name} needs routing_url and schema.file`);
    const file = resolve(base, s.schema.file);
    return { name, url: s.routing_url, file, sdl: readFileSync(file, 'utf8') };
  });
}

/**
 * Composes the subgraphs; throws with every composition error listed. `apiSdl` is the client-facing
 * schema (what Sandbox shows and what codegen types clients from).
 */
export function composeFromConfig(configPath: string): {
  supergraphSdl: string;
  apiSdl: string;
  subgraphs: SubgraphEntry[];
} {
  const subgraphs = readSupergraphConfig(configPath);
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  if (result.errors && result.errors.length > 0) {
    throw new Error(`Composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  if (!result.supergraphSdl || !result.schema) throw new Error('Composition produced no supergraph');
  const apiSdl = printSchema(result.schema.toAPISchema().toGraphQLJSSchema()) + '\n';
  return { supergraphSdl: result.supergraphSdl, apiSdl, subgraphs };
}
