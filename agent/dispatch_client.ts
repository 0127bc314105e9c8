// The agent's side of the dispatch service's /api/dispatch endpoints, authenticated with the shared
// secret: POST resolve (direct-trunk path) from a job, POST job-ended from the worker. Each retries
// transport failures and 5xx once: a caller is waiting on the line.
import {
  type DispatchResolveRequest,
  type DispatchResolveResponse,
  dispatchResolveResponseSchema,
  type JobEndedRequest,
} from '../src/domain/dispatch_resolve.js';
import { ProviderError } from '../src/domain/provider_error.js';

export interface DispatchClientOptions {
  baseUrl: string;
  sharedSecret: string;
  timeoutMs?: number;
}

/** POSTs `body` to /api/dispatch/`path` and returns the JSON answer of any status below 500. */
async function post(options: DispatchClientOptions, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/api/dispatch/${path}`;
  let lastError: unknown;
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.sharedSecret}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (response.status >= 500) throw new Error(`dispatch service answered ${response.status}`);
      return { status: response.status, body: (await response.json()) as unknown };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export function createDispatchClient(options: DispatchClientOptions): (request: DispatchResolveRequest) => Promise<DispatchResolveResponse> {
  return async (request) => {
    const answer = await post(options, 'resolve', request);
    const parsed = dispatchResolveResponseSchema.safeParse(answer.body);
    if (!parsed.success) throw new ProviderError('livekit', `dispatch service answered ${answer.status} with an unexpected body`, { status: answer.status, retryable: false });
    return parsed.data;
  };
}

/** Tells the dispatch service a room's job process exited; it hangs up a call still live there. */
export function createJobEndedReporter(options: DispatchClientOptions): (request: JobEndedRequest) => Promise<void> {
  return async (request) => {
    const answer = await post(options, 'job-ended', request);
    if (answer.status !== 200) throw new Error(`dispatch service answered ${answer.status} to job-ended: ${JSON.stringify(answer.body)}`);
  };
}
