// Login, logout, password change and the guard that every other page sits behind.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { eq, sql } from 'drizzle-orm';
import { users } from '../../adapters/db/schema.js';
import type { Actor } from '../../domain/access.js';
import { isDomainError } from '../../domain/errors.js';
import { accountLockedUntil, clearLoginFailures, recordLoginFailure } from '../../app/login_throttle.js';
import { listApiTokens, type ApiTokenView } from '../../app/api_tokens.js';
import { updateUser } from '../../app/users.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, formatTime, inputField, page, formError, type FieldErrors, type Viewer } from './layout.js';
import { csrfTokenOf, SESSION_COOKIE } from './session.js';
import type { WebDeps } from './web_deps.js';

declare module 'express-serve-static-core' {
  interface Locals {
    viewer?: Viewer;
    actor?: Actor;
  }
}

// Argon2 work for an unknown email too, so response time does not reveal which emails exist.
let dummyHash: Promise<string> | undefined;

/** Staff with a password may log in; reps practise on the phone only. */
async function authenticate(deps: WebDeps, email: string, password: string): Promise<Viewer | null> {
  const [row] = await deps.app.db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.trim().toLowerCase()}`)
    .limit(1);
  dummyHash ??= deps.app.hashPassword('not a password anyone has');
  const ok = await deps.verifyPassword(row?.passwordHash ?? (await dummyHash), password);
  if (!ok || !row || !row.active || row.role === 'rep' || row.passwordHash === null) return null;
  return { id: row.id, name: row.name, email: row.email, role: row.role };
}

async function loadViewer(deps: WebDeps, userId: string): Promise<(Viewer & { passwordHash: string | null }) | null> {
  const [row] = await deps.app.db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!row || !row.active || row.role === 'rep') return null;
  return { id: row.id, name: row.name, email: row.email, role: row.role, passwordHash: row.passwordHash };
}

/** Only same-site paths, so `?next=` cannot send a freshly logged-in user elsewhere. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/calls';
}

export const DEFAULT_SESSION_MAX_MS = 7 * 24 * 60 * 60_000;

/** However active, a session ends this long after its login (sessions otherwise roll for ever). */
export function sessionExpired(deps: Pick<WebDeps, 'sessionMaxMs'>, session: { authenticatedAt?: number | undefined }, now = Date.now()): boolean {
  return session.authenticatedAt === undefined || now - session.authenticatedAt > (deps.sessionMaxMs ?? DEFAULT_SESSION_MAX_MS);
}

export function requireViewer(deps: WebDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const userId = req.session.userId;
    const viewer = userId && !sessionExpired(deps, req.session) ? await loadViewer(deps, userId) : null;
    if (!viewer) {
      // A deactivated user's (or an expired) session ends at their next request.
      if (userId) {
        delete req.session.userId;
        delete req.session.authenticatedAt;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      } else {
        res.status(401).type('html').send(page({ title: 'Logged out', body: html`<h1>Please log in again</h1><p><a href="/login">Log in</a></p>` }).toString());
      }
      return;
    }
    res.locals.viewer = { id: viewer.id, name: viewer.name, email: viewer.email, role: viewer.role };
    res.locals.actor = { userId: viewer.id, role: viewer.role };
    next();
  };
}

function loginPage(req: Request, errors: FieldErrors, email = '', next = '/calls') {
  return page({
    title: 'Log in',
    body: html`<form method="post" action="/login" class="card login">
      <h1>Log in</h1>
      ${formError(errors)}
      ${csrfField(csrfTokenOf(req))}
      <input type="hidden" name="next" value="${next}">
      ${inputField({ label: 'Email', name: 'email', type: 'email', value: email, required: true, errors, attrs: html` autocomplete="username" autofocus` })}
      ${inputField({ label: 'Password', name: 'password', type: 'password', required: true, errors, attrs: html` autocomplete="current-password"` })}
      <button type="submit">Log in</button>
    </form>`,
  });
}

function tokensSection(tokens: readonly ApiTokenView[]): SafeHtml {
  if (tokens.length === 0) return html`<p class="muted">No API tokens. Create one with POST /api/tokens or the CLI.</p>`;
  const state = (t: ApiTokenView) => (t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active');
  return html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th></tr></thead>
    <tbody>${tokens.map((t) => html`<tr><td>${t.name}</td><td>${formatTime(t.createdAt)}</td><td>${formatTime(t.expiresAt)}</td><td>${t.lastUsedAt ? formatTime(t.lastUsedAt) : 'never'}</td><td>${state(t)}</td></tr>`)}</tbody></table></div>`;
}

async function accountPage(deps: WebDeps, req: Request, res: Response, errors: FieldErrors, notice?: string) {
  const viewer = res.locals.viewer!;
  const tokens = (await listApiTokens(deps.app, res.locals.actor!)).filter((token) => token.userId === viewer.id);
  return page({
    title: 'Account',
    viewer,
    section: 'account',
    csrfToken: csrfTokenOf(req),
    notice,
    body: html`<h1>Account</h1>
      <section class="card"><dl class="facts"><dt>Name</dt><dd>${viewer.name}</dd><dt>Email</dt><dd>${viewer.email}</dd><dt>Role</dt><dd>${viewer.role}</dd></dl></section>
      <form method="post" action="/account/password" class="card">
        <h2>Change password</h2>
        ${formError(errors)}
        ${csrfField(csrfTokenOf(req))}
        ${inputField({ label: 'Current password', name: 'current', type: 'password', required: true, errors, attrs: html` autocomplete="current-password"` })}
        ${inputField({ label: 'New password', name: 'password', type: 'password', required: true, errors, hint: 'At least 12 characters.', attrs: html` autocomplete="new-password"` })}
        ${inputField({ label: 'Repeat new password', name: 'confirm', type: 'password', required: true, errors, attrs: html` autocomplete="new-password"` })}
        <button type="submit">Change password</button>
      </form>
      <section class="card"><h2>Your API tokens</h2>${tokensSection(tokens)}</section>`,
  });
}

const TOO_MANY_FAILURES = 'Too many failed attempts. Wait a few minutes and try again.';

const send = (res: Response, body: { toString(): string }, status = 200) => res.status(status).type('html').send(body.toString());

const field = (req: Request, name: string): string => {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** Routes that need no login (login itself) and the account routes; `guard` protects the latter. */
export function addAuthRoutes(router: Router, deps: WebDeps, guard: RequestHandler, protect: RequestHandler): void {
  const loginLimiter = rateLimit({
    windowMs: deps.loginRateLimit?.windowMs ?? 15 * 60_000,
    limit: deps.loginRateLimit?.limit ?? 10,
    // Only failures count (they answer 401), so a team behind one address can still log in.
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // An X-Forwarded-For from an untrusted hop is ignored on purpose (TRUST_PROXY), not a mistake.
    validate: { xForwardedForHeader: false },
    handler: (req, res) => send(res, loginPage(req, { _form: TOO_MANY_FAILURES }, field(req, 'email')), 429),
  });

  router.get('/login', (req, res) => {
    if (req.session.userId && !sessionExpired(deps, req.session)) return res.redirect(303, safeNext(req.query.next));
    // A Secure cookie is never set over plain http, so logging in here would silently fail.
    const insecure = deps.publicBaseUrl.startsWith('https:') && !req.secure;
    const errors = insecure ? { _form: `Sessions need https: log in at ${deps.publicBaseUrl}/login instead.` } : {};
    send(res, loginPage(req, errors, '', safeNext(req.query.next)));
  });

  const accountRule = deps.accountLoginLimit ?? { maxFailures: 10, lockMs: 15 * 60_000 };
  router.post('/login', loginLimiter, protect, async (req, res, next) => {
    const email = field(req, 'email');
    const now = new Date();
    if (email && (await accountLockedUntil(deps.app.db, email, now))) {
      deps.logger.warn({ pii: { email } }, 'web login refused: account locked after failed attempts');
      return send(res, loginPage(req, { _form: TOO_MANY_FAILURES }, email, safeNext(field(req, 'next'))), 429);
    }
    const viewer = email && field(req, 'password') ? await authenticate(deps, email, field(req, 'password')) : null;
    if (!viewer) {
      deps.logger.info({ pii: { email } }, 'web login failed');
      if (email) await recordLoginFailure(deps.app.db, email, accountRule, now);
      return send(res, loginPage(req, { _form: 'Email or password is not right.' }, email, safeNext(field(req, 'next'))), 401);
    }
    await clearLoginFailures(deps.app.db, email);
    // A new session id at login defeats session fixation; the CSRF token is renewed with it.
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.userId = viewer.id;
      req.session.authenticatedAt = Date.now();
      csrfTokenOf(req);
      req.session.save((saveError) => {
        if (saveError) return next(saveError);
        deps.logger.info({ userId: viewer.id, role: viewer.role }, 'web login');
        res.redirect(303, safeNext(field(req, 'next')));
      });
    });
  });

  // An already-expired session has nothing to protect: just go to the login page.
  const loggedOutAlready: RequestHandler = (req, res, next) => (req.session.userId ? next() : res.redirect(303, '/login'));
  router.post('/logout', loggedOutAlready, protect, (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error);
      res.clearCookie(SESSION_COOKIE, { path: '/' });
      res.redirect(303, '/login');
    });
  });

  router.get('/account', guard, async (req, res) => {
    const notice = req.session.notice;
    delete req.session.notice;
    send(res, await accountPage(deps, req, res, {}, notice));
  });

  router.post('/account/password', guard, protect, async (req, res, next) => {
    const viewer = res.locals.viewer!;
    const password = field(req, 'password');
    if (password !== field(req, 'confirm')) return send(res, await accountPage(deps, req, res, { confirm: 'The two new passwords differ.' }), 400);
    try {
      // The use case checks the current password, then ends the user's other sessions and API tokens.
      await updateUser({ ...deps.app, verifyPassword: deps.verifyPassword }, res.locals.actor!, { id: viewer.id, password, currentPassword: field(req, 'current') }, { keepSessionId: req.sessionID });
    } catch (error) {
      if (isDomainError(error) && error.code === 'invalid_input') {
        const errors = error.fields.currentPassword
          ? { current: error.fields.currentPassword === 'not your current password' ? 'Not your current password.' : 'Enter your current password.' }
          : { password: error.fields.password ?? error.message };
        return send(res, await accountPage(deps, req, res, errors), 400);
      }
      throw error;
    }
    // A new session id too: whoever may have held the old one is out.
    const { authenticatedAt } = req.session;
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.userId = viewer.id;
      if (authenticatedAt !== undefined) req.session.authenticatedAt = authenticatedAt;
      req.session.notice = 'Password changed. Your other sessions and your API tokens have been ended.';
      req.session.save((saveError) => (saveError ? next(saveError) : res.redirect(303, '/account')));
    });
  });
}
