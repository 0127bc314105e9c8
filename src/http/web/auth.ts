// Login, logout, password change and the guard that every other page sits behind.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import { eq, sql } from 'drizzle-orm';
import { users } from '../../adapters/db/schema.js';
import type { Actor } from '../../domain/access.js';
import { isDomainError } from '../../domain/errors.js';
import { accountLockedUntil, clearLoginFailures, recordLoginFailure } from '../../app/login_throttle.js';
import { updateUser } from '../../app/users.js';
import { html } from './html.js';
import { csrfField, inputField, page, formError, type FieldErrors, type Viewer } from './layout.js';
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

export function requireViewer(deps: WebDeps): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const userId = req.session.userId;
    const viewer = userId ? await loadViewer(deps, userId) : null;
    if (!viewer) {
      // A deactivated user's session ends at their next request.
      if (userId) delete req.session.userId;
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

function accountPage(req: Request, res: Response, errors: FieldErrors, notice?: string) {
  const viewer = res.locals.viewer!;
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
      </form>`,
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
    if (req.session.userId) return res.redirect(303, safeNext(req.query.next));
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

  router.get('/account', guard, (req, res) => send(res, accountPage(req, res, {})));

  router.post('/account/password', guard, protect, async (req, res) => {
    const viewer = res.locals.viewer!;
    const current = field(req, 'current');
    const password = field(req, 'password');
    const row = await loadViewer(deps, viewer.id);
    if (!row?.passwordHash || !(await deps.verifyPassword(row.passwordHash, current))) {
      return send(res, accountPage(req, res, { current: 'Not your current password.' }), 400);
    }
    if (password !== field(req, 'confirm')) return send(res, accountPage(req, res, { confirm: 'The two new passwords differ.' }), 400);
    try {
      await updateUser(deps.app, res.locals.actor!, { id: viewer.id, password });
    } catch (error) {
      if (isDomainError(error) && error.code === 'invalid_input') {
        return send(res, accountPage(req, res, { password: error.fields.password ?? error.message }), 400);
      }
      throw error;
    }
    send(res, accountPage(req, res, {}, 'Password changed.'));
  });
}
