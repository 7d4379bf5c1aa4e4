import type { CognitoTokens } from '../cognito';
import type { UserRow } from '../data/users';

/** The AuthPayload of login/refresh/register. */
export const authPayload = (tokens: CognitoTokens, user: UserRow) => ({
  accessToken: tokens.accessToken,
  idToken: tokens.idToken,
  refreshToken: tokens.refreshToken,
  expiresIn: tokens.expiresIn,
  user,
});
