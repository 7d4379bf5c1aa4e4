import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, signContext, type Caller } from '@lt/context';
import type { SubgraphFetcher } from './httpFetcher';

/** Context the router's Apollo Server builds per request. */
export interface RouterContext {
  caller: Caller;
}

/**
 * A data source that forwards nothing from the client but the router-signed caller and the
 * request id. Client headers never reach subgraphs (the gateway sends only what we set here).
 */
export class SignedContextDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(
    url: string,
    private readonly secret: string,
    /** Kept-alive HTTP with a deadline per call (httpFetcher.ts), shared by every subgraph. */
    fetcher: SubgraphFetcher,
  ) {
    super({ url, fetcher: fetcher as never });
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RouterContext>['willSendRequest']>>[0]): void {
    const headers = request.http?.headers;
    if (!headers || !context?.caller) return;
    headers.set(CONTEXT_HEADER, signContext(context.caller, { secret: this.secret }));
    headers.set(REQUEST_ID_HEADER, context.caller.requestId);
  }
}
