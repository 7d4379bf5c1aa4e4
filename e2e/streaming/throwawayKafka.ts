/**
 * A second, private Kafka broker for fault tests (so stopping it never disturbs the shared one on
 * 9092 that other tests use). Started and stopped by scripts/services/kafka.sh with its own ports
 * and data directory; the same jars, the same config.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@lt/testing';

const SCRIPT = fileURLToPath(new URL('../../scripts/services/kafka.sh', import.meta.url));

export interface ThrowawayKafka {
  brokers: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops and deletes the data directory. */
  destroy(): Promise<void>;
}

export async function createThrowawayKafka(): Promise<ThrowawayKafka> {
  const [port, controller] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'lt-kafka-fault-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_RUN_DIR: dir,
  };
  const run = (cmd: 'start' | 'stop') =>
    new Promise<void>((resolve, reject) => {
      execFile('bash', [SCRIPT, cmd], { env, timeout: 120_000 }, (err, _out, stderr) =>
        err ? reject(new Error(`kafka.sh ${cmd} failed: ${stderr.slice(-2_000)}`)) : resolve(),
      );
    });
  return {
    brokers: [`127.0.0.1:${port}`],
    start: () => run('start'),
    stop: () => run('stop'),
    async destroy() {
      await run('stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
