// Twilio request signatures (https://www.twilio.com/docs/usage/security#validating-requests),
// checked with twilio's own helper against the configured public URL — never the Host header,
// which the caller controls and a proxy may rewrite.
import twilio from 'twilio';
import type { VerifyTwilioSignature } from '../../http/verifiers.js';

export function createTwilioSignatureVerifier(authToken: string): VerifyTwilioSignature {
  return (signature, url, params) => twilio.validateRequest(authToken, signature, url, params);
}
