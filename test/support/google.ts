// A Google service account for tests of the vertex provider: a fresh RSA key, and the token endpoint a mock serves.
import { generateKeyPairSync } from 'node:crypto';

/** The JSON of a service account key file (`serviceAccountJson`), exchanging its JWTs at `tokenUri` when given. */
export function testServiceAccountJson(tokenUri?: string): string {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return JSON.stringify({
    type: 'service_account',
    project_id: 'proj-1',
    client_email: 'sluice-test@proj-1.iam.gserviceaccount.com',
    private_key: privateKey,
    ...(tokenUri === undefined ? {} : { token_uri: tokenUri }),
  });
}
