/**
 * Member cities: the reference cities seeded once per store, and the cities operators add, list
 * and show (with their apps, configured clients included).
 */
import type { SeedCity } from '../../config/cities.ts';
import { memberCityCodeProblem } from '../../config/divisions.ts';
import { isDivisionCode, provinceOf } from '../identity/identifiers.ts';
import { assertProvince } from './actors.ts';
import { problem, whereCity } from './checks.ts';
import type { MemberContext } from './context.ts';
import { RegistryError, RegistryErrorCode, type Problem } from './errors.ts';
import { appScopes, defaultRegistrationScopes, isPrintable } from './policy.ts';
import { assertMayGrantScopes } from './purposes.ts';
import type { Actor, MemberCity } from './types.ts';
import { appView, configuredView, type CitySummary, type CityView } from './views.ts';

export interface CityOperations {
  /** Adds the seed cities that are missing, once per store; returns how many were added. */
  seed(cities: readonly SeedCity[]): Promise<number>;
  listCities(actor: Actor): Promise<CitySummary[]>;
  showCity(actor: Actor, code: unknown): Promise<CityView>;
  addCity(actor: Actor, input: { readonly code?: unknown; readonly name?: unknown; readonly registration_scopes?: unknown }): Promise<MemberCity>;
}

export function createCityOperations({ records, configured, now, record, cityFor }: MemberContext): CityOperations {
  return {
    async seed(cities) {
      if (await records.seeded()) return 0;
      const existing = new Set((await records.cities()).map((c) => c.code));
      const added: string[] = [];
      for (const seed of cities) {
        if (existing.has(seed.code) || !isDivisionCode(seed.code)) continue;
        const at = now();
        try {
          await records.createCity({
            code: seed.code, name: seed.name, province: provinceOf(seed.code), registration_scopes: [...defaultRegistrationScopes],
            source: 'seed', created_at: at, updated_at: at, revision: 1,
          });
          added.push(seed.code);
        } catch (error) {
          // Another node seeding at the same moment created it.
          if (!(error instanceof RegistryError && error.code === RegistryErrorCode.conflict)) throw error;
        }
      }
      if (added.length) await record({ kind: 'system', reason: 'seed' }, 'city.seed', { type: 'city', id: 'reference-table' }, {}, undefined, { codes: added });
      await records.markSeeded(added.length);
      return added.length;
    },

    async listCities(actor) {
      let cities = await records.cities();
      if (actor.kind === 'operator' && actor.role === 'province') cities = cities.filter((c) => c.province === actor.province);
      const counts = await Promise.all(cities.map((c) => records.appCount(c.code)));
      const configuredCounts = new Map<string, number>();
      for (const client of configured.values()) configuredCounts.set(client.city, (configuredCounts.get(client.city) ?? 0) + 1);
      return cities.map((c, i) => ({ ...c, apps: counts[i]! + (configuredCounts.get(c.code) ?? 0) }));
    },

    async showCity(actor, codeInput) {
      const city = await cityFor(actor, codeInput, 'code');
      const apps = (await records.appsOf(city.code)).map(appView);
      const fromConfig = [...configured.values()].filter((c) => c.city === city.code).map(configuredView);
      return { city, apps: [...fromConfig, ...apps] };
    },

    async addCity(actor, input) {
      const problems: Problem[] = [];
      const code = typeof input.code === 'string' ? input.code : '';
      // A real GB/T 2260 division, in a province with an adapter (config/divisions.ts).
      const codeProblem = isDivisionCode(code) ? memberCityCodeProblem(code) : `"${String(input.code ?? '')}" is not a valid 6-digit GB/T 2260 division code`;
      if (codeProblem) problems.push({ field: 'code', code: RegistryErrorCode.invalidDivisionCode, message: codeProblem });
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (name === '' || name.length > 64 || !isPrintable(name)) problems.push({ field: 'name', code: RegistryErrorCode.invalidRequest, message: 'required, 1-64 printable characters' });
      let scopes = [...defaultRegistrationScopes];
      if (input.registration_scopes !== undefined) {
        const list = typeof input.registration_scopes === 'string' ? input.registration_scopes.split(/\s+/).filter(Boolean) : input.registration_scopes;
        if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || !appScopes.includes(s)) || !list.includes('openid')) {
          problems.push({ field: 'registration_scopes', code: RegistryErrorCode.invalidScope, message: `scopes among ${appScopes.join(' ')}, openid included` });
        } else {
          scopes = [...new Set(list as string[])];
        }
      }
      if (problems.length) throw RegistryError.of(problems);
      assertProvince(actor, provinceOf(code), `city ${code}`);
      assertMayGrantScopes(actor, scopes, `the registration scopes of city ${code}`);
      if (await records.city(code)) throw problem(RegistryErrorCode.cityExists, 'code', `city ${code} is already a member`);
      const at = now();
      const city: MemberCity = { code, name, province: provinceOf(code), registration_scopes: scopes, source: 'operator', created_at: at, updated_at: at, revision: 1 };
      try {
        await records.createCity(city);
      } catch (error) {
        if (error instanceof RegistryError && error.code === RegistryErrorCode.conflict) throw problem(RegistryErrorCode.cityExists, 'code', `city ${code} is already a member (or being added)`);
        throw error;
      }
      await record(actor, 'city.add', { type: 'city', id: code }, whereCity(city), undefined, city);
      return city;
    },
  };
}
