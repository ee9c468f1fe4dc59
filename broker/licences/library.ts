/**
 * The broker's client of the national electronic licence library: one bounded GET with the
 * person's national access token, whose answer is either every document asked for, as the
 * authorities signed them, or an error; never a partial list.
 */
import { licenceType } from './types.ts';

export interface LibraryDocument {
  readonly type: string;
  readonly document: string;
}

export type LibraryFailure = 'unavailable' | 'refused' | 'unauthorized' | 'malformed';

export class LibraryError extends Error {
  readonly failure: LibraryFailure;
  constructor(failure: LibraryFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibraryError';
    this.failure = failure;
  }
}

export interface LibraryRequest {
  readonly nationalAccessToken: string;
  readonly types: readonly string[];
  /** A company's credit code; the person's own licences when absent. */
  readonly holder?: string;
}

export interface LicenceLibraryClient {
  fetchLicences(request: LibraryRequest): Promise<LibraryDocument[]>;
}

const compactJws = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** `libraryUrl` e.g. `http://127.0.0.1:3100/licence-library`. */
export function createLicenceLibraryClient(options: { readonly libraryUrl: string; readonly timeoutMs: number; readonly fetch?: typeof fetch }): LicenceLibraryClient {
  const doFetch = options.fetch ?? fetch;
  return {
    async fetchLicences({ nationalAccessToken, types, holder }) {
      const url = new URL(`${options.libraryUrl.replace(/\/$/, '')}/licences`);
      url.searchParams.set('type', types.join(','));
      if (holder) url.searchParams.set('holder', holder);
      let response: Response;
      try {
        response = await doFetch(url, { headers: { authorization: `Bearer ${nationalAccessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
      } catch (cause) {
        throw new LibraryError('unavailable', 'the national licence library could not be reached in time', { cause });
      }
      if (response.status === 401) throw new LibraryError('unauthorized', 'the national authorization is no longer accepted');
      if (response.status === 403) throw new LibraryError('refused', 'the national licence library refused the request');
      if (response.status !== 200) throw new LibraryError('unavailable', `the national licence library answered ${response.status}`);
      let body: unknown;
      try {
        body = await response.json();
      } catch (cause) {
        throw new LibraryError('malformed', 'the national licence library answered no JSON', { cause });
      }
      const list = (body as { licences?: unknown } | null)?.licences;
      if (!Array.isArray(list)) throw new LibraryError('malformed', 'the answer lists no licences');
      const documents = list.map((item: unknown): LibraryDocument => {
        const { type, document } = (item ?? {}) as { type?: unknown; document?: unknown };
        if (typeof type !== 'string' || !types.includes(type) || !licenceType(type) || typeof document !== 'string' || !compactJws.test(document)) {
          throw new LibraryError('malformed', 'the answer holds an item that is not a licence asked for');
        }
        return { type, document };
      });
      return documents;
    },
  };
}
