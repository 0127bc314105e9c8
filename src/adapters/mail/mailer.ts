// SMTP delivery through nodemailer. Failures become ProviderError('smtp'): a 5xx reply is permanent
// (the server refused for good), a 4xx reply or a broken connection is worth another try.
import nodemailer from 'nodemailer';
import { ProviderError } from '../../domain/provider_error.js';
import type { Mailer, OutgoingEmail } from '../../app/post_call.js';

export interface SmtpMailerOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  /** Per-connection and per-command timeouts. */
  timeoutMs?: number;
}

export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? '' } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    from: options.from,
    async send(email: OutgoingEmail) {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          headers: email.headers ?? {},
        });
        return { messageId: info.messageId };
      } catch (error) {
        const smtp = error as { responseCode?: number; code?: string; message?: string };
        const status = typeof smtp.responseCode === 'number' ? smtp.responseCode : undefined;
        throw new ProviderError('smtp', `SMTP ${status ?? smtp.code ?? 'error'}: ${smtp.message ?? String(error)}`, {
          ...(status === undefined ? {} : { status }),
          retryable: status === undefined || status < 500,
          cause: error,
        });
      }
    },
    close: () => transport.close(),
  };
}
