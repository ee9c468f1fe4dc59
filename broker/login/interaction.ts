/**
 * The interaction of an `/interaction/:uid` request, read from the store once per request. The
 * language choice (platform/i18n/choose.ts) reads it by the path's uid before any route runs; the
 * route's check of the browser then takes it from there, and the route ends it on the same record.
 * The check and the ending do what oidc-provider's `interactionDetails` and `interactionResult` do
 * (lib/provider.js), without reading the record again: the interaction's uid must be the one in the
 * path-scoped interaction cookie, and a session the login began in must still be there, signed in
 * to the same account.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { signedCookie } from './signed-cookie.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
type InteractionResults = NonNullable<InteractionDetails['result']>;

const readInRequest = new WeakMap<Context, { readonly uid: string; readonly interaction: Promise<InteractionDetails | undefined> }>();

/** The interaction `uid`, read at most once per request. */
export function interactionNamed(provider: Provider, ctx: Context, uid: string): Promise<InteractionDetails | undefined> {
  const known = readInRequest.get(ctx);
  if (known?.uid === uid) return known.interaction;
  const interaction = provider.Interaction.find(uid);
  readInRequest.set(ctx, { uid, interaction });
  return interaction;
}

/** For the language choice: the `ui_locales` of the login in progress and when it began. */
export function loginLocalesOf(provider: Provider) {
  return async (uid: string, ctx: Context) => {
    const interaction = await interactionNamed(provider, ctx, uid);
    return interaction && { uiLocales: interaction.params?.ui_locales, createdAt: interaction.iat };
  };
}

/** As `provider.interactionDetails(ctx.req, ctx.res)`, on the record this request already read. */
export async function interactionDetails(provider: Provider, ctx: Context): Promise<InteractionDetails> {
  const id = signedCookie(ctx, provider.cookieName('interaction'));
  if (!id) throw new errors.SessionNotFound('interaction session id cookie not found');
  const interaction = await interactionNamed(provider, ctx, id);
  if (!interaction) throw new errors.SessionNotFound('interaction session not found');
  await checkInteractionSession(provider, interaction);
  return interaction;
}

/** As oidc-provider's own interaction lookup: an interaction whose session has ended, or signed in to someone else since, is refused. */
export async function checkInteractionSession(provider: Provider, interaction: InteractionDetails): Promise<void> {
  if (!interaction.session?.uid) return;
  const session = await provider.Session.findByUid(interaction.session.uid);
  if (!session) throw new errors.SessionNotFound('session not found');
  if (interaction.session.accountId !== session.accountId) throw new errors.SessionNotFound('session principal changed');
}

export interface ResultOptions {
  /** Keeps what earlier prompts of the same authorization answered (never for an error). */
  readonly mergeWithLastSubmission: boolean;
}

/**
 * As `provider.interactionResult`, on an interaction already checked: records `result` for the
 * remaining lifetime of the interaction and answers where the browser resumes. The resume
 * (`/auth/:uid`) still requires the browser's own resume cookie.
 */
export async function endInteraction(interaction: InteractionDetails, result: InteractionResults, { mergeWithLastSubmission }: ResultOptions): Promise<string> {
  interaction.result = mergeWithLastSubmission && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  return interaction.returnTo;
}

/** As `provider.interactionFinished`: the result recorded, then 303 to the resume. */
export async function finishInteraction(ctx: Context, interaction: InteractionDetails, result: InteractionResults, options: ResultOptions): Promise<void> {
  const resume = await endInteraction(interaction, result, options);
  ctx.status = 303;
  ctx.redirect(resume);
}
