/**
 * Who received what: every release of claims to an app (an ID token or a userinfo answer) is noted
 * per account — app, items (scope names, never values), first and last time — so `/account` lists
 * only apps that really received tokens. With an audit trail (broker/audit) each release of a
 * sensitive item is also appended there, the person named by that app's pairwise `sub`, with the
 * consent record it stood on (release/consent-records.ts). Legacy ticket systems are noted the same way;
 * licence fetches (broker/licences) are only noted here, their audit entry is the relay's own.
 *
 * A note is read and written on every ID token, userinfo answer and refresh, mostly unchanged. So
 * each node remembers what it last wrote per account and app, and writes again only when an item is
 * new (or the app's label changed) or its last write is a minute old: the `last` time `/account`
 * shows is then at most a minute behind, and the note's lifetime starts at most a minute early. The
 * audit entries of sensitive items are not affected: each release is still appended.
 */
import type { Store } from '../platform/storage/types.ts';
import type { ConsentRecords } from './consent-records.ts';
import { sensitiveAmong } from './sensitive.ts';

export interface ReleaseNote {
  readonly clientId: string;
  readonly items: readonly string[];
  /** Epoch seconds. */
  readonly first: number;
  readonly last: number;
  /** A legacy ticket system (no OIDC client of its own): its name and member city for `/account`. */
  readonly system?: LegacySystemLabel;
}

export interface LegacySystemLabel {
  readonly name: string;
  readonly city: string;
}

/** The part of broker/audit's trail this module uses. */
export interface ReleaseAudit {
  append(record: { type: 'release'; action: string; client?: string; subject?: string; details?: Record<string, unknown> }): Promise<unknown>;
}

export interface Release {
  readonly accountId: string;
  readonly clientId: string;
  /** The app's pairwise `sub` for the person. */
  readonly subject: string;
  readonly scopes: readonly string[];
  /** `id_token` or `userinfo`. */
  readonly use: string;
  /** The grant the release stands on. */
  readonly grantId?: string;
  /** The app whose consent record the release stands on, when not `clientId` (a legacy system's bridge). */
  readonly consentClientId?: string;
  /** A release to a legacy ticket system rather than an OIDC app. */
  readonly system?: LegacySystemLabel;
}

export interface ReleaseLog {
  record(release: Release): Promise<void>;
  /** Notes a release for `/account` only (its audit entry is written by the caller, e.g. the licence relay). */
  note(release: Pick<Release, 'accountId' | 'clientId' | 'scopes' | 'system'>): Promise<void>;
  list(accountId: string): Promise<ReleaseNote[]>;
}

const releasesKey = (accountId: string) => `releases:${accountId}`;
/** A note this node wrote is written again after this, even unchanged (seconds): `last` lags at most this. */
const rewriteAfterSeconds = 60;
/** At most this many accounts and apps remembered per node, besides only the last minute's (a forgotten one is just written). */
const rememberedNotes = 10_000;

interface Written {
  readonly items: ReadonlySet<string>;
  readonly system: string;
  readonly at: number;
}

export function createReleaseLog(options: { store: Store; ttlSeconds: number; audit?: ReleaseAudit; consents?: ConsentRecords; now?: () => number }): ReleaseLog {
  const { store, ttlSeconds, audit, consents } = options;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  // What this node last wrote, by account and app; in write order, so the first is the oldest.
  const written = new Map<string, Written>();
  const note: ReleaseLog['note'] = async ({ accountId, clientId, scopes, system }) => {
    const at = now();
    const memo = JSON.stringify([accountId, clientId]);
    const label = system ? JSON.stringify([system.name, system.city]) : '';
    const last = written.get(memo);
    if (last && at - last.at < rewriteAfterSeconds && last.system === label && scopes.every((item) => last.items.has(item))) return;
    const notes = (await store.get<ReleaseNote[]>(releasesKey(accountId))) ?? [];
    const before = notes.find((n) => n.clientId === clientId);
    const items = [...new Set([...(before?.items ?? []), ...scopes])];
    const next: ReleaseNote = { clientId, items, first: before?.first ?? at, last: at, ...(system ? { system } : {}) };
    await store.set(releasesKey(accountId), [...notes.filter((n) => n !== before), next], ttlSeconds * 1000);
    written.delete(memo);
    written.set(memo, { items: new Set(items), system: label, at });
    // Oldest first: drop what no longer saves a write, and the oldest beyond the bound.
    for (const [oldMemo, { at: writtenAt }] of written) {
      if (at - writtenAt < rewriteAfterSeconds && written.size <= rememberedNotes) break;
      written.delete(oldMemo);
    }
  };
  return {
    note,
    async record({ accountId, clientId, subject, scopes, use, grantId, consentClientId, system }) {
      await note({ accountId, clientId, scopes, ...(system ? { system } : {}) });
      const sensitive = sensitiveAmong(scopes);
      if (audit && sensitive.length) {
        // Under which consent record: its id names the exact choice in force (it changes with the choice).
        const consent = (await consents?.find(accountId, consentClientId ?? clientId))?.id;
        await audit.append({
          type: 'release', action: system ? 'legacy.release' : 'claims.release', client: clientId, subject,
          details: { items: sensitive, use, ...(grantId ? { grant: grantId } : {}), ...(consent ? { consent } : {}) },
        });
      }
    },
    async list(accountId) {
      return (await store.get<ReleaseNote[]>(releasesKey(accountId))) ?? [];
    },
  };
}
