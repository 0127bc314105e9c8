// Login, logout, password change and the guard that every other page sits behind.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { eq, sql } from 'drizzle-orm';
import { users } from '../../adapters/db/schema.js';
import { isDomainError } from '../../domain/errors.js';
import { accountLockedUntil, clearLoginFailures, recordLoginFailure } from '../../app/login_throttle.js';
import { listApiTokens, type ApiTokenView } from '../../app/api_tokens.js';
import { updateUser } from '../../app/users.js';
import { consumeSignInLink, requestSignInLink } from '../../app/sign_in.js';
import { actorOf, viewerOf } from '../locals.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, formatTime, inputField, page, formError, type FieldErrors, type Viewer } from './layout.js';
import { csrfTokenOf, SESSION_COOKIE } from './session.js';
import { signInDeps, type WebDeps } from './web_deps.js';

// Argon2 work for an unknown email too, so response time does not reveal which emails exist.
let dummyHash: Promise<string> | undefined;

/** Staff log in with a password; reps sign in by emailed link (sign_in.ts), never here. */
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
  if (!row || !row.active) return null;
  return { id: row.id, name: row.name, email: row.email, role: row.role, passwordHash: row.passwordHash };
}

/** Only same-site paths, so `?next=` cannot send a freshly logged-in user elsewhere. */
export function safeNext(value: unknown, fallback = '/calls'): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : fallback;
}

/** Where each role starts. */
export const homeOf = (role: Viewer['role']): string => (role === 'rep' ? '/me' : '/calls');

export const DEFAULT_SESSION_MAX_MS = 7 * 24 * 60 * 60_000;

/** However active, a session ends this long after its login (sessions otherwise roll for ever). */
export function sessionExpired(deps: Pick<WebDeps, 'sessionMaxMs'>, session: { authenticatedAt?: number | undefined }, now = Date.now()): boolean {
  return session.authenticatedAt === undefined || now - session.authenticatedAt > (deps.sessionMaxMs ?? DEFAULT_SESSION_MAX_MS);
}

/**
 * The guard in front of every page. Staff pages are all of them except the few a rep may open
 * (`reps: true`: their own page, their calls, practice, account); to a rep the rest do not exist.
 */
export function requireViewer(deps: WebDeps, options: { reps?: boolean } = {}): RequestHandler {
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
    if (viewer.role === 'rep' && !options.reps) {
      res.status(404).type('html').send(page({ title: 'Not found', viewer: res.locals.viewer, body: html`<h1>Not found</h1><p>There is nothing here, or it is not yours to see.</p><p><a href="/me">Your practice</a></p>` }).toString());
      return;
    }
    next();
  };
}

/**
 * Signs `userId` in: a new session id defeats session fixation and renews the CSRF token; the
 * session is saved before the redirect, so the next page finds it. `signedIn` logs the event.
 */
function signIn(req: Request, res: Response, next: NextFunction, userId: string, to: string, signedIn: () => void): void {
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.userId = userId;
    req.session.authenticatedAt = Date.now();
    csrfTokenOf(req);
    req.session.save((saveError) => {
      if (saveError) return next(saveError);
      signedIn();
      res.redirect(303, to);
    });
  });
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
    </form>
    <form method="post" action="/login/link" class="card login">
      <h2>Reps: sign in by email</h2>
      ${csrfField(csrfTokenOf(req))}
      <div class="field"><label for="f-link-email">Your work address</label>
        <input name="email" id="f-link-email" type="email" required autocomplete="email" aria-describedby="link-email-hint">
        <small id="link-email-hint">We email you a link that signs you in. It works once, within 15 minutes.</small></div>
      <button type="submit">Email me a sign-in link</button>
    </form>`,
  });
}

const LINK_SENT = 'If this address belongs to a rep, a sign-in link is on its way. It works once, within 15 minutes.';

function linkRequestedPage(notice: string) {
  return page({ title: 'Check your email', body: html`<section class="card login"><h1>Check your email</h1><p role="status">${notice}</p><p><a href="/login">Back to sign-in</a></p></section>` });
}

function linkConfirmPage(req: Request, token: string) {
  // A button, not an automatic sign-in: mail scanners that open links must not spend them.
  return page({
    title: 'Sign in',
    body: html`<form method="post" action="/login/link/${token}" class="card login">
      <h1>Sign in to Practice Line</h1>
      ${csrfField(csrfTokenOf(req))}
      <button type="submit">Sign in</button>
    </form>`,
  });
}

const linkFailedPage = () =>
  page({
    title: 'Link not valid',
    body: html`<section class="card login"><h1>This link does not work any more</h1><p>Sign-in links work once, within 15 minutes (invites within 3 days). Ask for a new one.</p><p><a href="/login">Sign in</a></p></section>`,
  });

function tokensSection(tokens: readonly ApiTokenView[]): SafeHtml {
  if (tokens.length === 0) return html`<p class="muted">No API tokens. Create one with POST /api/tokens or the CLI.</p>`;
  const state = (t: ApiTokenView) => (t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active');
  return html`<div class="table-wrap"><table><thead><tr><th>Name</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th></tr></thead>
    <tbody>${tokens.map((t) => html`<tr><td>${t.name}</td><td>${formatTime(t.createdAt)}</td><td>${formatTime(t.expiresAt)}</td><td>${t.lastUsedAt ? formatTime(t.lastUsedAt) : 'never'}</td><td>${state(t)}</td></tr>`)}</tbody></table></div>`;
}

async function accountPage(deps: WebDeps, req: Request, res: Response, errors: FieldErrors, notice?: string) {
  const viewer = viewerOf(res);
  // Reps have neither a password nor API tokens.
  const tokens = viewer.role === 'rep' ? [] : (await listApiTokens(deps.app, actorOf(res))).filter((token) => token.userId === viewer.id);
  return page({
    title: 'Account',
    viewer,
    section: 'account',
    csrfToken: csrfTokenOf(req),
    notice,
    body: html`<h1>Account</h1>
      <section class="card"><dl class="facts"><dt>Name</dt><dd>${viewer.name}</dd><dt>Email</dt><dd>${viewer.email}</dd><dt>Role</dt><dd>${viewer.role}</dd></dl></section>
${viewer.role === 'rep' ? html`<p class="muted">Reps sign in with an emailed link; there is no password to change.</p>` : html`      <form method="post" action="/account/password" class="card">
        <h2>Change password</h2>
        ${formError(errors)}
        ${csrfField(csrfTokenOf(req))}
        ${inputField({ label: 'Current password', name: 'current', type: 'password', required: true, errors, attrs: html` autocomplete="current-password"` })}
        ${inputField({ label: 'New password', name: 'password', type: 'password', required: true, errors, hint: 'At least 12 characters.', attrs: html` autocomplete="new-password"` })}
        ${inputField({ label: 'Repeat new password', name: 'confirm', type: 'password', required: true, errors, attrs: html` autocomplete="new-password"` })}
        <button type="submit">Change password</button>
      </form>
      <section class="card"><h2>Your API tokens</h2>${tokensSection(tokens)}</section>`}`,
  });
}

const TOO_MANY_FAILURES = 'Too many failed attempts. Wait a few minutes and try again.';

const send = (res: Response, body: { toString(): string }, status = 200) => res.status(status).type('html').send(body.toString());

const field = (req: Request, name: string): string => {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
};

/** Routes that need no login (login itself) and the account routes; `guard` protects the latter. */
export function addAuthRoutes(router: Router, deps: WebDeps, guard: RequestHandler, repsToo: RequestHandler, protect: RequestHandler): void {
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
    if (req.session.userId && !sessionExpired(deps, req.session)) return res.redirect(303, safeNext(req.query.next, '/'));
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
    signIn(req, res, next, viewer.id, safeNext(field(req, 'next')), () => deps.logger.info({ userId: viewer.id, role: viewer.role }, 'web login'));
  });

  // Per address and per client address; both answer the same page as success, so a limit reached
  // says nothing about whether the address exists (and the sending is never awaited).
  const limited = (name: 'ip' | 'address', limit: number, keyGenerator?: (req: Request) => string) =>
    rateLimit({
      windowMs: deps.signInRateLimit?.windowMs ?? 15 * 60_000,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // An X-Forwarded-For from an untrusted hop is ignored on purpose (TRUST_PROXY), not a mistake.
      validate: { xForwardedForHeader: false },
      ...(keyGenerator ? { keyGenerator } : {}),
      handler: (req, res) => {
        deps.logger.warn({ limit: name, pii: { email: field(req, 'email') } }, 'sign-in link requests rate limited');
        send(res, linkRequestedPage(LINK_SENT), 429);
      },
    });
  const perIp = limited('ip', deps.signInRateLimit?.perIp ?? 20);
  const perAddress = limited('address', deps.signInRateLimit?.perAddress ?? 3, (req) => `email:${field(req, 'email').trim().toLowerCase()}`);

  router.post('/login/link', protect, perIp, perAddress, (req, res) => {
    const email = field(req, 'email');
    void requestSignInLink(signInDeps(deps), email).catch((error: unknown) => deps.logger.error({ err: error }, 'sign-in link could not be sent'));
    send(res, linkRequestedPage(LINK_SENT));
  });

  router.get('/login/link/:token', (req, res) => send(res, linkConfirmPage(req, String(req.params.token))));

  router.post('/login/link/:token', protect, async (req, res, next) => {
    const signedIn = await consumeSignInLink(signInDeps(deps), String(req.params.token));
    if (!signedIn) {
      deps.logger.info('sign-in link refused');
      return send(res, linkFailedPage(), 400);
    }
    signIn(req, res, next, signedIn.userId, '/me', () => deps.logger.info({ userId: signedIn.userId, role: 'rep' }, 'web sign-in by link'));
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

  router.get('/account', repsToo, async (req, res) => {
    const notice = req.session.notice;
    delete req.session.notice;
    send(res, await accountPage(deps, req, res, {}, notice));
  });

  router.post('/account/password', guard, protect, async (req, res, next) => {
    const viewer = viewerOf(res);
    const password = field(req, 'password');
    if (password !== field(req, 'confirm')) return send(res, await accountPage(deps, req, res, { confirm: 'The two new passwords differ.' }), 400);
    try {
      // The use case checks the current password, then ends the user's other sessions and API tokens.
      await updateUser({ ...deps.app, verifyPassword: deps.verifyPassword }, actorOf(res), { id: viewer.id, password, currentPassword: field(req, 'current') }, { keepSessionId: req.sessionID });
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
