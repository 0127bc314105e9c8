// Sessions in Postgres (express-session + connect-pg-simple on the `sessions` table the migrations
// create) and synchronizer-token CSRF protection (csrf-sync) kept in the same session.
import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import type pg from 'pg';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    /** When the user logged in (ms); the session ends SESSION_ABSOLUTE_MAX_MS later however active it is. */
    authenticatedAt?: number;
    /** A one-shot message shown on the next page (never a PIN: sessions are stored in plain JSON). */
    notice?: string;
  }
}

export const SESSION_COOKIE = 'pl.sid';

export interface SessionOptions {
  pool: pg.Pool;
  secret: string;
  /** Cookies are marked Secure when the public URL is https. */
  publicBaseUrl: string;
  maxAgeMs?: number;
  /** Off in tests so no timer outlives them; connect-pg-simple's default (15 min) otherwise. */
  pruneExpired?: boolean;
}

export function createSessionMiddleware(options: SessionOptions): { middleware: RequestHandler; close(): Promise<void> } {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool: options.pool,
    tableName: 'sessions',
    createTableIfMissing: false,
    pruneSessionInterval: options.pruneExpired === false ? false : 15 * 60,
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store,
    resave: false,
    // No row for anonymous visitors until something (a CSRF token for the login form) is stored.
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.publicBaseUrl.startsWith('https:'),
      maxAge: options.maxAgeMs ?? 12 * 60 * 60 * 1000,
      path: '/',
    },
  });
  return {
    middleware,
    close: async () => {
      await store.close();
    },
  };
}

export const csrf = csrfSync({
  // Forms post the token as a hidden field; the live page's fetches are GETs and need none.
  getTokenFromRequest: (req: Request) => {
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
  errorConfig: { statusCode: 403, message: 'invalid csrf token', code: 'EBADCSRFTOKEN' },
});

/** The token for forms on this page; creates the session (and its cookie) on first use. */
export const csrfTokenOf = (req: Request): string => csrf.generateToken(req);
