/**
 * The one body reader of the routes outside oidc-provider (the pages' forms, the admin API, legacy
 * calls, back-channel logout tokens, client registration): a body is read only up to a limit, so an
 * oversized or endless body costs no memory and never reaches a route's own parsing.
 */
import type { Context } from 'koa';
import { tongbanError } from '../errors.ts';

/** Reads a small application/x-www-form-urlencoded body (forms on the broker's own pages). */
export async function readForm(ctx: Context, limit = 16 * 1024): Promise<URLSearchParams> {
  const type = ctx.get('content-type');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw tongbanError('form_expected');
  }
  const body = await readBody(ctx, limit);
  if (!body) throw tongbanError('form_too_large');
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * Reads the request body up to `limit` bytes. Undefined when it is larger: the rest stays unread,
 * so the response closes the connection, which cannot carry another request.
 */
export async function readBody(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.set('connection', 'close');
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
