/** The development-mode warning the broker CLI and the demo print at start. */
import type { TongbanConfig } from '../../config/defaults.ts';
import { storeText } from './configuration.ts';

/** The one loud warning of development mode, for people starting the broker by hand. */
export function developmentBanner(config: TongbanConfig): string | undefined {
  if (config.mode !== 'development') return undefined;
  const line = '!'.repeat(78);
  return `${line}
!!  tongban runs in DEVELOPMENT mode: signing and cookie keys are generated and kept in
!!  the store (${storeText(config.store)}), http loopback URLs are accepted.
!!  Chosen explicitly (mode: development); every page and /readyz say so. Never expose
!!  this broker. Production: TONGBAN_MODE=production with real keys and https.
${line}
`;
}
