/**
 * What single logout keeps about a broker session (broker/logout/sessions.ts): a step-up or a
 * change of account replaces the record and takes the session out of the old indexes; a session
 * created by the login itself has nothing to replace, and its record is written without reading.
 */
import assert from 'node:assert/strict';
import { createSessionRegistry } from '../../broker/logout/sessions.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import type { Store } from '../../broker/platform/storage/types.ts';
import { createMemoryLogger } from '../../broker/platform/log.ts';

describe('session registry of single logout', () => {
  let store: Store;
  let reads: string[];

  beforeEach(async () => {
    const memory = await createStore('memory:', { logger: createMemoryLogger('error') });
    reads = [];
    store = new Proxy(memory, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'get' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return (key: string) => (reads.push(key), target.get(key));
      },
    });
  });
  afterEach(() => store.close());

  it('a new session: indexes and record written, nothing read', async () => {
    const registry = createSessionRegistry(store);
    await registry.recordLogin('s1', 'a1', { sid: 'n1' }, 60, { fresh: true });
    assert.deepEqual(reads, []);
    assert.deepEqual(await registry.loginOf('s1'), { accountId: 'a1', sid: 'n1' });
    assert.deepEqual(await registry.sessionsOfNationalSid('n1'), ['s1']);
    assert.deepEqual(await registry.sessionsOfAccount('a1'), ['s1']);
  });

  it('a step-up, then another account in the same session: the old indexes no longer name it', async () => {
    const registry = createSessionRegistry(store);
    await registry.recordLogin('s1', 'a1', { sid: 'n1' }, 60, { fresh: true });
    await registry.recordLogin('s1', 'a1', { sid: 'n2' }, 60);
    assert.deepEqual(await registry.sessionsOfNationalSid('n1'), []);
    assert.deepEqual(await registry.sessionsOfNationalSid('n2'), ['s1']);
    await registry.recordLogin('s1', 'a2', {}, 60);
    assert.deepEqual(await registry.sessionsOfAccount('a1'), []);
    assert.deepEqual(await registry.sessionsOfAccount('a2'), ['s1']);
    assert.deepEqual(await registry.sessionsOfNationalSid('n2'), []);
    assert.deepEqual(await registry.loginOf('s1'), { accountId: 'a2' });
  });
});
