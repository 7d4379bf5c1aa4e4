import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A GraphQL error as the router returns it. */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: { message: string; extensions?: { code?: string } }[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  }
}

/** A tiny typed client: queries/mutations over HTTP, subscriptions over graphql-ws. */
export class SupergraphClient {
  private token: string | undefined;
  constructor(private readonly url: string) {}

  setToken(token: string): void {
    this.token = token;
  }

  async request<R, V>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query: print(doc), variables }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { data?: R; errors?: GraphQLRequestError['errors'] };
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    if (!body.data) throw new Error(`empty response (HTTP ${res.status})`);
    return body.data;
  }

  /** Opens a graphql-ws connection authenticated with the current token. Close it with `dispose()`. */
  subscriptions(): Client {
    return createClient({
      url: this.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: () => ({ authorization: `Bearer ${this.token ?? ''}` }),
      retryAttempts: 0,
    });
  }

  /**
   * Subscribes; resolves with the first result, or rejects after `timeoutMs`. `produce` is called
   * repeatedly (bounded) until a result arrives, because the client cannot know the exact moment
   * the server has registered the subscription.
   */
  async first<R, V>(
    ws: Client,
    doc: TypedDocumentNode<R, V>,
    variables: V,
    produce: () => Promise<void>,
    { timeoutMs = 15_000, everyMs = 250 } = {},
  ): Promise<R> {
    let done = false;
    const received = new Promise<R>((resolve, reject) => {
      const unsubscribe = ws.subscribe<R>(
        { query: print(doc), variables: variables as Record<string, unknown> },
        {
          next: (value) => {
            done = true;
            unsubscribe();
            if (value.errors?.length) reject(new GraphQLRequestError(value.errors as never));
            else resolve(value.data as R);
          },
          error: (err) => {
            done = true;
            reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
          },
          complete: () => undefined,
        },
      );
    });
    const deadline = Date.now() + timeoutMs;
    const producing = (async () => {
      while (!done && Date.now() < deadline) {
        await produce();
        await new Promise((r) => setTimeout(r, everyMs));
      }
      if (!done) throw new Error('timed out waiting for a subscription result');
    })();
    return Promise.race([received, producing.then(() => received)]);
  }
}
