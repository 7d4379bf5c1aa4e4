/**
 * Following the README's quick start to the letter: its commands are read out of README.md (so
 * the tests cannot drift from what a newcomer reads) and run, as written, in a clean copy of the
 * working tree. Only ports are changed (through the environment: several test runs share this
 * machine), and clients are pointed at the router with ROUTER_URL.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@lt/testing';
import { gql } from '../support/graphql';

export const repo = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The `npm …` commands of the README's "Quick start" section, in order: each line of its code
 * blocks (comments dropped, `a && b` split) and each inline code span that starts with `npm `.
 */
export function quickStartCommands(readme = readFileSync(join(repo, 'README.md'), 'utf8')): string[] {
  const section = readme.split(/^## Quick start\s*$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('README.md has no "## Quick start" section');
  const commands: string[] = [];
  const add = (cmd: string): void => {
    for (const part of cmd.split('&&').map((c) => c.trim())) {
      if (part.startsWith('npm ') && !commands.includes(part)) commands.push(part);
    }
  };
  const fenced = /```bash\n([\s\S]*?)```/g;
  for (const m of section.matchAll(fenced)) {
    for (const line of m[1]!.split('\n')) add(line.replace(/\s#.*$/, ''));
  }
  for (const m of section.replace(fenced, '').matchAll(/`(npm [^`]+)`/g)) add(m[1]!.replace(/\s+/g, ' '));
  return commands;
}

/** A clean copy: the committed files only (no .data, no build output), sharing node_modules. */
export function cleanCopy(): string {
  const target = mkdtempSync(join(tmpdir(), 'lt-newcomer-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f.length > 0);
  for (const f of files) {
    mkdirSync(dirname(join(target, f)), { recursive: true });
    try {
      cpSync(join(repo, f), join(target, f));
    } catch {
      // a file deleted in the working tree but still in the index
    }
  }
  symlinkSync(join(repo, 'node_modules'), join(target, 'node_modules'), 'dir');
  symlinkSync(join(repo, 'prisma/generated'), join(target, 'prisma/generated'), 'dir');
  return target;
}

/** A command run as a person types it in a terminal of its own (own process group). */
export class Terminal {
  output = '';
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null = null;
  /** Exited by itself with 0, or ended by the Ctrl-C it was sent (as a shell reports it). */
  get succeeded(): boolean {
    return this.exitCode === 0 || (this.interrupted && this.signal === 'SIGINT');
  }
  private interrupted = false;
  readonly child: ChildProcess;

  constructor(
    readonly command: string,
    cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    // 'close', not 'exit': every byte the command printed has been read by then.
    this.child.on('close', (code, signal) => {
      this.signal = signal;
      this.exitCode = code;
    });
  }

  /** Ctrl-C: SIGINT to the whole foreground process group (npm, tsx, node). */
  interrupt(): void {
    if (this.exitCode !== undefined) return;
    this.interrupted = true;
    process.kill(-this.child.pid!, 'SIGINT');
  }

  async exited(timeoutMs: number): Promise<boolean> {
    await waitFor(() => this.exitCode !== undefined, {
      timeoutMs,
      intervalMs: 100,
      what: `"${this.command}" to exit (output:\n${this.output.slice(-2000)})`,
    });
    // Every process of the group, not just bash.
    await waitFor(
      () => {
        try {
          process.kill(-this.child.pid!, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `every process of "${this.command}" to exit` },
    );
    return this.succeeded;
  }

  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The environment of the newcomer's terminals: nothing configured, any free ports. */
export function newcomerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    PORT: '0',
    AUTH_PORT: '0',
    TENANT_PORT: '0',
    LOCATION_PORT: '0',
    STREAMING_PORT: '0',
    COGNITO_LOCAL_PORT: '0',
    DEMO_RECEIVER_PORT: '0',
  };
  for (const k of Object.keys(env)) {
    if (
      /^(DATABASE_URL|REDIS_URL|KAFKA_BROKERS|COGNITO_|MIGRATION_DATABASE_URL|ADMIN_DATABASE_URL|ROUTER_CONTEXT_SECRET|BOOTSTRAP_ADMIN_|LOG_LEVEL|LOG_FORMAT|DEMO|MAP_STYLE_URL|SIM_|EXAMPLE_|ROUTER_URL)/.test(
        k,
      )
    )
      delete env[k];
  }
  return { ...env, ...extra };
}

/** `npm start` as the README says, until its banner; then what it printed. */
export async function startAsReadmeSays(
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ terminal: Terminal; readyMs: number; printed: (label: string) => string }> {
  const t0 = Date.now();
  const terminal = new Terminal('npm start', dir, env);
  await waitFor(
    () => {
      if (terminal.exitCode !== undefined) throw new Error(`npm start exited:\n${terminal.output.slice(-3000)}`);
      return terminal.output.includes('Location supergraph ready') && terminal.output.includes('member ');
    },
    { timeoutMs: 100_000, intervalMs: 100, what: 'npm start to print ready' },
  );
  await waitFor(() => /\n\n/.test(terminal.output.slice(terminal.output.indexOf('Location supergraph ready'))), {
    timeoutMs: 5_000,
    intervalMs: 50,
    what: 'the whole banner',
  });
  const readyMs = Date.now() - t0;
  const printed = (label: string): string => {
    const m = terminal.output.match(new RegExp(`${label}\\s+(\\S+)(?: / (\\S+))?`));
    if (!m) throw new Error(`npm start did not print "${label}"`);
    return m[2] ? `${m[1]} / ${m[2]}` : m[1]!;
  };
  return { terminal, readyMs, printed };
}

export const credentials = (line: string): { email: string; password: string } => {
  const [email, password] = line.split(' / ');
  return { email: email!, password: password! };
};

export async function login(router: string, c: { email: string; password: string }): Promise<string> {
  const r = await gql<{ login: { accessToken: string } }>(
    router,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
    { e: c.email, p: c.password },
  );
  if (r.errors) throw new Error(`login ${c.email}: ${JSON.stringify(r.errors)}`);
  return r.data!.login.accessToken;
}

export interface SessionRow {
  id: string;
  deviceId: string | null;
  pointCount: number;
  user: { email: string };
}

/** Active sessions of the tenant, as its admin sees them. */
export async function activeSessions(router: string, token: string): Promise<SessionRow[]> {
  const r = await gql<{ locationSessions: { edges: { node: SessionRow }[] } }>(
    router,
    'query { locationSessions(status: ACTIVE, first: 100) { edges { node { id deviceId pointCount user { email } } } } }',
    {},
    { authorization: `Bearer ${token}` },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.locationSessions.edges.map((e) => e.node);
}

/**
 * Runs a README command other than `npm start` in a terminal of its own. A command that keeps
 * running (the simulator) is stopped with Ctrl-C, as a person would, once `until` holds.
 */
export async function runAsReadmeSays(
  command: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  until?: (t: Terminal) => Promise<boolean> | boolean,
): Promise<Terminal> {
  const t = new Terminal(command, dir, env);
  try {
    if (until) {
      await waitFor(async () => t.exitCode !== undefined || (await until(t)), {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `"${command}" to get going (output:\n${t.output.slice(-2000)})`,
      });
      t.interrupt();
    }
    await t.exited(90_000);
    return t;
  } catch (err) {
    t.kill();
    throw err;
  }
}

export function removeCopy(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** The quick-start commands a newcomer runs against a started `npm start` (all but install, start, test). */
export const clientCommands = (commands = quickStartCommands()): string[] =>
  commands.filter((c) => !['npm install', 'npm start', 'npm test'].includes(c));

export interface StartedCopy {
  dir: string;
  terminal: Terminal;
  /** The router URL the banner printed. */
  router: string;
  /** The environment for the clients: ROUTER_URL set (the test's router is not on port 4000). */
  env: NodeJS.ProcessEnv;
  readyMs: number;
  printed: (label: string) => string;
}

/** A clean copy with `npm start` running in it as the README says (`extra`: added environment). */
export async function startCleanCopy(extra: NodeJS.ProcessEnv = {}): Promise<StartedCopy> {
  const dir = cleanCopy();
  try {
    const env = newcomerEnv(extra);
    const s = await startAsReadmeSays(dir, env);
    const router = s.printed('GraphQL \\+ Apollo Sandbox');
    return {
      dir,
      terminal: s.terminal,
      router,
      env: { ...env, ROUTER_URL: router },
      readyMs: s.readyMs,
      printed: s.printed,
    };
  } catch (err) {
    removeCopy(dir);
    throw err;
  }
}

/** Kills `npm start` (if still running) and removes the copy. */
export function stopCleanCopy(copy: StartedCopy | undefined): void {
  copy?.terminal.kill();
  removeCopy(copy?.dir);
}
