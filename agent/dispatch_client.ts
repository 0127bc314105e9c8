// The agent's side of POST /api/dispatch/resolve (direct-trunk path), authenticated with the
// shared secret. Retries transport failures and 5xx once; the caller is waiting on the line.
import {
  type DispatchResolveRequest,
  type DispatchResolveResponse,
  dispatchResolveResponseSchema,
} from '../src/domain/dispatch_resolve.js';
import { ProviderError } from '../src/domain/provider_error.js';

export function createDispatchClient(options: { baseUrl: string; sharedSecret: string; timeoutMs?: number }): (request: DispatchResolveRequest) => Promise<DispatchResolveResponse> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/api/dispatch/resolve`;
  return async (request) => {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.sharedSecret}` },
          body: JSON.stringify(request),
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        if (response.status >= 500) throw new Error(`dispatch service answered ${response.status}`);
        const body: unknown = await response.json();
        const parsed = dispatchResolveResponseSchema.safeParse(body);
        if (!parsed.success) throw new ProviderError('livekit', `dispatch service answered ${response.status} with an unexpected body`, { status: response.status, retryable: false });
        return parsed.data;
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  };
}
