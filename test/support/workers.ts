// `sluice start --workers N` as a user runs it, for the tests of src/cluster/: free ports for the gateway and the admin
// API, a SQLite store in a scratch folder, the rest of sluice.yaml from the test; resolved once every worker listens.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSluice, waitFor, type SluiceProcess } from './process.js';
import { scratchDir } from './scratch.js';
import { freePort } from './sluice-process.js';

export interface StartedWorkers {
  sluice: SluiceProcess;
  gatewayPort: number;
  adminPort: number;
  dbPath: string;
}

/** `name` names the scratch folder and the admin token (`admin-token-for-the-<name>-test`). */
export async function startWorkers(name: string, yaml: string, workers = 2): Promise<StartedWorkers> {
  const dir = scratchDir(`sluice-${name}-`);
  const dbPath = join(dir, 'sluice.db');
  const gatewayPort = await freePort();
  const adminPort = await freePort();
  const config = join(dir, 'sluice.yaml');
  writeFileSync(
    config,
    `
gateway: { host: 127.0.0.1, port: ${gatewayPort} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-${name}-test }
storage: sqlite:${dbPath}
${yaml}
`,
  );
  const sluice = runSluice(['start', '--workers', String(workers), '--config', config], {
    SLUICE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  });
  await waitFor(sluice.output, /sluice workers are listening/, 60_000);
  return { sluice, gatewayPort, adminPort, dbPath };
}
