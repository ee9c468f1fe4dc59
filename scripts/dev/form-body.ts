/**
 * The form body reader of the demo parties (simulator, demo portal): they stand for other
 * organisations and do not use the broker's (broker/platform/http/body.ts), but read a form alike,
 * refusing one over 16 KiB with 413.
 */
import type Koa from 'koa';

export async function readFormBody(ctx: Koa.Context, limit = 16 * 1024): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
