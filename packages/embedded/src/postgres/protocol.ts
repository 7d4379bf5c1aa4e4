/**
 * The few pieces of the Postgres v3 wire protocol the embedded proxy needs: framing, the startup
 * packet, and building the handful of backend messages it answers itself.
 * Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

export const PROTOCOL_V3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** Transaction status from ReadyForQuery: idle, in a transaction block, in a failed block. */
export type TxStatus = 'I' | 'T' | 'E';

/** One untyped startup-phase packet (length-prefixed, no type byte), or undefined if incomplete. */
export function readStartupPacket(buf: Buffer): { code: number; body: Buffer; size: number } | undefined {
  if (buf.length < 8) return undefined;
  const size = buf.readInt32BE(0);
  if (size < 8 || size > 10_000) throw new Error(`bad startup packet length ${size}`);
  if (buf.length < size) return undefined;
  return { code: buf.readInt32BE(4), body: buf.subarray(8, size), size };
}

/** key\0value\0…\0 pairs of a StartupMessage. */
export function parseStartupParams(body: Buffer): Record<string, string> {
  const parts = body.toString('utf8').split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i] !== ''; i += 2) out[parts[i]!] = parts[i + 1]!;
  return out;
}

/** Splits complete typed messages (type byte + int32 length) off the front of `buf`. */
export function splitMessages(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let off = 0;
  while (buf.length - off >= 5) {
    const len = buf.readInt32BE(off + 1);
    if (len < 4) throw new Error(`bad message length ${len}`);
    if (buf.length - off < 1 + len) break;
    messages.push(buf.subarray(off, off + 1 + len));
    off += 1 + len;
  }
  return { messages, rest: buf.subarray(off) };
}

/** The status byte of the last ReadyForQuery in a backend output, if any. */
export function lastReadyStatus(out: Uint8Array): TxStatus | undefined {
  let status: TxStatus | undefined;
  let off = 0;
  const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  while (view.length - off >= 5) {
    const type = view[off];
    const len = view.readInt32BE(off + 1);
    if (type === 0x5a && len === 5 && view.length - off >= 6) status = String.fromCharCode(view[off + 5]!) as TxStatus;
    off += 1 + len;
  }
  return status;
}

/** The first ErrorResponse's message field, if the output holds one. */
export function firstError(out: Uint8Array): string | undefined {
  const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  let off = 0;
  while (view.length - off >= 5) {
    const type = view[off];
    const len = view.readInt32BE(off + 1);
    if (type === 0x45) {
      const fields = view.subarray(off + 5, off + 1 + len);
      let p = 0;
      while (p < fields.length && fields[p] !== 0) {
        const code = String.fromCharCode(fields[p]!);
        const end = fields.indexOf(0, p + 1);
        if (code === 'M') return fields.subarray(p + 1, end).toString('utf8');
        p = end + 1;
      }
      return 'unknown error';
    }
    off += 1 + len;
  }
  return undefined;
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

/** A simple-protocol Query message. */
export function queryMessage(sql: string): Buffer {
  return message('Q', cstr(sql));
}

export const SYNC_MESSAGE = message('S', Buffer.alloc(0));

export function readyForQuery(status: TxStatus): Buffer {
  return message('Z', Buffer.from(status, 'latin1'));
}

/** ErrorResponse with severity, SQLSTATE and message. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  return message(
    'E',
    Buffer.concat([cstr(`S${severity}`), cstr(`V${severity}`), cstr(`C${code}`), cstr(`M${text}`), Buffer.from([0])]),
  );
}

/** AuthenticationOk, ParameterStatus for each entry, BackendKeyData, ReadyForQuery(I). */
export function startupReply(params: Record<string, string>, backendPid: number): Buffer {
  const auth = Buffer.alloc(4);
  const key = Buffer.alloc(8);
  key.writeInt32BE(backendPid, 0);
  key.writeInt32BE(0, 4);
  return Buffer.concat([
    message('R', auth),
    ...Object.entries(params).map(([k, v]) => message('S', Buffer.concat([cstr(k), cstr(v)]))),
    message('K', key),
    readyForQuery('I'),
  ]);
}

/** The SQL text of a Query ('Q') or Parse ('P') message; undefined for other messages. */
export function sqlOf(msg: Buffer): { sql: string; start: number; end: number } | undefined {
  const type = String.fromCharCode(msg[0]!);
  if (type === 'Q') return { sql: msg.toString('utf8', 5, msg.length - 1), start: 5, end: msg.length - 1 };
  if (type === 'P') {
    const nameEnd = msg.indexOf(0, 5);
    const sqlEnd = msg.indexOf(0, nameEnd + 1);
    return { sql: msg.toString('utf8', nameEnd + 1, sqlEnd), start: nameEnd + 1, end: sqlEnd };
  }
  return undefined;
}

/** Rebuilds a Query/Parse message with its SQL text replaced (the rest of a Parse is kept). */
export function withSql(msg: Buffer, span: { start: number; end: number }, sql: string): Buffer {
  const body = Buffer.concat([msg.subarray(5, span.start), Buffer.from(sql, 'utf8'), msg.subarray(span.end)]);
  return message(String.fromCharCode(msg[0]!), body);
}
