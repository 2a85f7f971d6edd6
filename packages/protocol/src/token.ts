/**
 * Claims of a Parley access token. The layout is Twilio's AccessToken (`grants.identity`,
 * `grants.chat`) so that a token minted by the official `twilio` library with a Parley
 * API key id (`iss`) and secret is accepted.
 *
 * @example
 * const claims: AccessTokenClaims = { jti: 'SK1-1', iss: 'SK1', sub: 'parley', exp: 0, grants: { identity: 'ada', chat: {} } };
 */
export interface AccessTokenClaims {
  jti: string;
  /** API key id that signed the token. */
  iss: string;
  /** Account: always `parley` for tokens Parley mints; accepted as-is for Twilio-minted ones. */
  sub: string;
  exp: number;
  nbf?: number;
  iat?: number;
  grants: {
    identity: string;
    chat?: { service_sid?: string; endpoint_id?: string };
  };
}
