/** The router's identity path: token verification and membership resolution. */
export { anonymousAuthenticator, type Authenticator, type Authenticated } from './types';
