import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who may call the API: a request with `Authorization: Bearer <API_TOKEN>`, or a browser that signed in with that
 * token (the console's sign-in sets a signed session cookie). Both are checked by the API's one auth hook, so the
 * console and any page the API serves (its explorer) are behind the same door.
 */
export const SESSION_COOKIE = 'sj_session';
const SESSION_HOURS = 12;

export type AuthenticatedBy = 'bearer' | 'cookie';

export class Sessions {
  private readonly expected: Buffer;
  /** Signs the session and CSRF cookies: derived from the token, so a new API_TOKEN ends every session. */
  readonly cookieSecret: string;

  constructor(token: string) {
    this.expected = digest(token);
    this.cookieSecret = createHmac('sha256', token).update('scheduled-job console cookies').digest('base64url');
  }

  /** Whether `token` is the API token; the digests make the comparison take the same time whatever it is. */
  isToken(token: string): boolean {
    return token.length > 0 && timingSafeEqual(digest(token), this.expected);
  }

  authenticate(req: FastifyRequest): AuthenticatedBy | undefined {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Bearer ') && this.isToken(header.slice(7))) return 'bearer';
    const cookie = req.cookies[SESSION_COOKIE];
    if (!cookie) return undefined;
    const { valid, value } = req.unsignCookie(cookie);
    const expires = Number(value?.replace(/^v1\./, ''));
    return valid && Number.isFinite(expires) && expires > Date.now() ? 'cookie' : undefined;
  }

  /** After a sign-in with the right token: the browser sends this cookie instead of the token. */
  open(req: FastifyRequest, reply: FastifyReply): void {
    reply.setCookie(SESSION_COOKIE, `v1.${Date.now() + SESSION_HOURS * 3_600_000}`, {
      ...cookieOptions(req),
      maxAge: SESSION_HOURS * 3600,
    });
  }

  close(req: FastifyRequest, reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
  }
}

/** httpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure behind https. */
export function cookieOptions(req: FastifyRequest) {
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https', signed: true };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
