/** One variable: how to parse it, its default (omit for required), and what it means (for docs). */
export interface VarSpec<T> {
  parse: (raw: string) => T;
  default?: T;
  /** `true` when the variable may be absent and the value is then `undefined`. */
  optional?: boolean;
  description: string;
  /** Never printed (errors say only that it is invalid). */
  secret?: boolean;
}

export type ConfigSpec = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends ConfigSpec> = {
  [K in keyof S]: S[K] extends VarSpec<infer T> ? (S[K]['optional'] extends true ? T | undefined : T) : never;
};

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; problem: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `env` against `spec`; throws {@link ConfigError} listing every bad or missing variable. */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Record<string, string | undefined>): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: { variable: string; problem: string }[] = [];
  for (const [name, v] of Object.entries(spec)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if ('default' in v) out[name] = v.default;
      else if (v.optional) out[name] = undefined;
      else problems.push({ variable: name, problem: `required (${v.description})` });
      continue;
    }
    try {
      out[name] = v.parse(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      problems.push({ variable: name, problem: v.secret ? `invalid: ${why}` : `invalid value: ${why}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

type Opts<T> = Omit<VarSpec<T>, 'parse'>;

export const str = (o: Opts<string>): VarSpec<string> => ({ ...o, parse: (r) => r });

export const int = (o: Opts<number> & { min?: number; max?: number }): VarSpec<number> => ({
  ...o,
  parse: (r) => {
    if (!/^-?\d+$/.test(r)) throw new Error(`"${r}" is not an integer`);
    const n = Number(r);
    if (o.min !== undefined && n < o.min) throw new Error(`${n} is below ${o.min}`);
    if (o.max !== undefined && n > o.max) throw new Error(`${n} is above ${o.max}`);
    return n;
  },
});

export const bool = (o: Opts<boolean>): VarSpec<boolean> => ({
  ...o,
  parse: (r) => {
    if (/^(1|true|yes|on)$/i.test(r)) return true;
    if (/^(0|false|no|off)$/i.test(r)) return false;
    throw new Error(`"${r}" is not a boolean (true/false)`);
  },
});

export const url = (o: Opts<string> & { protocols?: string[] }): VarSpec<string> => ({
  ...o,
  parse: (r) => {
    let u: URL;
    try {
      u = new URL(r);
    } catch {
      throw new Error('not a URL');
    }
    if (o.protocols && !o.protocols.includes(u.protocol.replace(/:$/, ''))) {
      throw new Error(`protocol must be one of ${o.protocols.join(', ')}`);
    }
    return r;
  },
});

const URL_PROTOCOLS = {
  postgres: ['postgresql', 'postgres'],
  redis: ['redis', 'rediss'],
  http: ['http', 'https'],
} as const;

/** An optional URL of one kind (`postgres`, `redis` or `http`, TLS variants included). */
export const optionalUrl = (kind: keyof typeof URL_PROTOCOLS, description: string): VarSpec<string> =>
  url({ protocols: [...URL_PROTOCOLS[kind]], optional: true, description });

/** A secret: at least `minLength` characters, never echoed in errors or logs. */
export const secret = (o: Opts<string> & { minLength?: number }): VarSpec<string> => ({
  ...o,
  secret: true,
  parse: (r) => {
    const min = o.minLength ?? 32;
    if (r.length < min) throw new Error(`must be at least ${min} characters`);
    return r;
  },
});

export const oneOf = <T extends string>(values: readonly T[], o: Opts<T>): VarSpec<T> => ({
  ...o,
  parse: (r) => {
    if (!(values as readonly string[]).includes(r)) throw new Error(`must be one of ${values.join(', ')}`);
    return r as T;
  },
});

export const list = (o: Opts<string[]>): VarSpec<string[]> => ({
  ...o,
  parse: (r) =>
    r
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
});
