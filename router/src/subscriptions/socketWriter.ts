import type { Connection } from './connections';

/**
 * The writer of one subscription's results. Results bypass graphql-ws's per-message path
 * (stringify per socket, await every write): the fan-out hands over payloads serialised once per
 * group; they go out as `next` messages of subscription `id`, corked so one delivery is one write
 * to the socket. Returns false, writing nothing, when the socket already holds more than
 * `maxBufferedBytes` unsent (a slow consumer); true when written or when there is nowhere to write.
 */
export function socketWriter(
  conn: Connection,
  id: string,
  maxBufferedBytes: number,
  isEnded: () => boolean,
): (results: readonly string[]) => boolean {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (results) => {
    const socket = conn.socket;
    if (isEnded() || socket.readyState !== socket.OPEN) return true;
    if (socket.bufferedAmount > maxBufferedBytes) return false;
    conn.raw.cork();
    try {
      for (const r of results) socket.send(`${prefix}${r}}`);
    } finally {
      conn.raw.uncork();
    }
    return true;
  };
}
