/**
 * Starts `npm start`'s federation for the browser tests on free ports: config/demo.json itself, its
 * addresses moved to those ports, with a throw-away SQLite store.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, type Demo } from '../../scripts/dev/demo.ts';
import { freePort } from '../support/federation.ts';

/** The demo, and the SQLite file its store writes (what `npm start` keeps under data/). */
export async function startDemoFederation(): Promise<Demo & { readonly storeFile: string }> {
  const [brokerPort, simulatorPort, hangzhouPort, shanghaiPort, servicePort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tongban-demo-'));
  const configFile = join(dir, 'demo.json');
  const moved = readFileSync(new URL('../../config/demo.json', import.meta.url), 'utf8')
    .replaceAll('127.0.0.1:3200', `127.0.0.1:${hangzhouPort}`)
    .replaceAll('127.0.0.1:3201', `127.0.0.1:${shanghaiPort}`)
    .replaceAll('127.0.0.1:3300', `127.0.0.1:${servicePort}`);
  writeFileSync(configFile, moved);
  const storeFile = join(dir, 'tongban.sqlite');
  const demo = await startDemo({
    TONGBAN_MODE: 'development',
    TONGBAN_CONFIG: configFile,
    TONGBAN_ISSUER: `http://127.0.0.1:${brokerPort}`,
    TONGBAN_PORT: String(brokerPort),
    TONGBAN_METRICS_PORT: '0',
    TONGBAN_STORE: `sqlite:${storeFile}`,
    TONGBAN_LOG_LEVEL: 'warn',
    TONGBAN_NATIONAL_ISSUER: `http://127.0.0.1:${simulatorPort}`,
    SIMULATOR_PORT: String(simulatorPort),
    PORTAL_PORT: String(hangzhouPort),
    SHANGHAI_PORTAL_PORT: String(shanghaiPort),
    DEMO_SERVICE_PORT: String(servicePort),
  });
  return Object.assign(demo, { storeFile });
}
