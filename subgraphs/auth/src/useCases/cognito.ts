import { serviceUnavailable } from '@lt/errors';
import type { Cognito } from '../cognito';
import type { AuthServices } from '../deps';

/** The identity provider, else SERVICE_UNAVAILABLE (not configured). */
export function requireCognito(s: AuthServices): Cognito {
  if (!s.cognito) throw serviceUnavailable('Identity provider not configured');
  return s.cognito;
}
