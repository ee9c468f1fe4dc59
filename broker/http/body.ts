import type { Context } from 'koa';
import { TongbanError } from '../errors.ts';

/** Reads a small application/x-www-form-urlencoded body (forms on the broker's own pages). */
export async function readForm(ctx: Context, limit = 16 * 1024): Promise<URLSearchParams> {
  const type = ctx.get('content-type');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new TongbanError('invalid_request', { status: 415, message: 'Expected a form submission.', messageZh: '请求格式不正确。' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      // The rest of the body stays unread: the connection cannot carry another request.
      ctx.set('connection', 'close');
      throw new TongbanError('invalid_request', { status: 413, message: 'The form is too large.', messageZh: '提交的内容过大。' });
    }
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
