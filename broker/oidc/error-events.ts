/**
 * What oidc-provider reports on its own events goes to the broker's structured log: a server error
 * by its class name (and the data key id of a record that does not open, never its content), a
 * refused token request by its OAuth error code.
 */
import type Provider from 'oidc-provider';
import type { Logger } from '../platform/log.ts';

export function logProviderErrors(provider: Provider, logger: Logger): void {
  provider.on('server_error', (_ctx, error: Error & { keyId?: unknown }) => {
    // A sealed record that does not open (RecordUnsealableError) names its data key id, never its content.
    logger.error('provider_server_error', { code: 'server_error', reason: error.name, ...(typeof error.keyId === 'string' ? { keyId: error.keyId } : {}) });
  });
  provider.on('grant.error', (_ctx, error: Error & { error?: string }) => {
    logger.info('token_request_refused', { code: error.error ?? error.name });
  });
}
