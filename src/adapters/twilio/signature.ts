// Twilio request signatures (https://www.twilio.com/docs/usage/security#validating-requests),
// checked with twilio's own helper against the configured public URL — never the Host header,
// which the caller controls and a proxy may rewrite.
import twilio from 'twilio';

/** `url` is PUBLIC_BASE_URL + the request's path and query, exactly as Twilio requested it. */
export function isValidTwilioSignature(authToken: string, signature: string, url: string, params: Record<string, unknown>): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

/** What Twilio would send: for emulating Twilio in tests and benchmarks. */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}
