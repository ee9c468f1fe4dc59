/**
 * Pairwise sectors: every app of a province shares one, so a person's `sub` (and a company's) is
 * the same across a province and different between provinces. The province comes from the
 * client's member city; its adapter names the sector.
 */
import type { Client } from 'oidc-provider';
import { adapterForDivision } from '../../adapters/registry.ts';

/** The member city a client (app) belongs to, from its metadata. */
export function cityOf(client: Client | undefined): string | undefined {
  const city = (client as unknown as { city?: unknown } | undefined)?.city;
  return typeof city === 'string' ? city : undefined;
}

export function sectorOf(client: Client): string {
  return sectorOfCity(cityOf(client));
}

/** The pairwise sector of a member city's province (resource servers have a city, not a client). */
export function sectorOfCity(city: string | undefined): string {
  const adapter = city ? adapterForDivision(city) : undefined;
  // A province without an adapter still gets a sector of its own: its province code.
  return adapter?.sector ?? `province:${city ? city.slice(0, 2) : 'none'}`;
}
