/** Validation of sink input: names, topics, batch settings and URLs (the URL policy may resolve DNS). */
import { badUserInput } from '@lt/errors';
import { UrlRefusedError, validateSinkUrl, type UrlPolicy } from '../delivery/urlPolicy';
import { isStreamTopic, type StreamTopic } from '../kafka/client';

export interface BatchInput {
  maxEvents: number;
  maxWaitMs: number;
}

export interface SinkInput {
  name?: string | null;
  url?: string | null;
  topics?: readonly string[] | null;
  status?: string | null;
  /** Omitted: unchanged; null: one event per request. */
  batch?: BatchInput | null;
}

/** The columns of a batch setting (both null: unbatched), checked against the documented ranges. */
export function validBatch(raw: BatchInput | null): { batchMaxEvents: number | null; batchMaxWaitMs: number | null } {
  if (raw === null) return { batchMaxEvents: null, batchMaxWaitMs: null };
  const { maxEvents, maxWaitMs } = raw;
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 1_000)
    throw badUserInput('batch.maxEvents must be 1–1000', 'batch.maxEvents');
  if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 10_000)
    throw badUserInput('batch.maxWaitMs must be 0–10000', 'batch.maxWaitMs');
  return { batchMaxEvents: maxEvents, batchMaxWaitMs: maxWaitMs };
}

export function validName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100) throw badUserInput('name must be 1–100 characters', 'name');
  return name;
}

export function validTopics(raw: readonly string[]): StreamTopic[] {
  const topics = [...new Set(raw)];
  if (topics.length === 0) throw badUserInput('topics must not be empty', 'topics');
  if (!topics.every(isStreamTopic)) throw badUserInput('unknown topic', 'topics');
  return topics;
}

/** The trimmed URL if the SSRF policy allows it, else BAD_USER_INPUT naming `url`. */
export async function validUrl(raw: string, policy: UrlPolicy): Promise<string> {
  try {
    return (await validateSinkUrl(raw.trim(), policy)).toString();
  } catch (err) {
    if (err instanceof UrlRefusedError) throw badUserInput(err.reason, 'url');
    throw err;
  }
}
