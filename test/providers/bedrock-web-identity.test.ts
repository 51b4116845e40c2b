// Bedrock with a role assumed through a web identity token (as on EKS): the SDK's provider calls a mock STS,
// and the credentials it returns sign the Bedrock calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { MockProvider } from '../support/mock-provider.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

let sts: MockProvider;
let bedrock: Awaited<ReturnType<typeof startMockBedrock>>;
let sluice: TestSluice;

before(async () => {
  sts = await MockProvider.start((request, res) => {
    const form = new URLSearchParams(request.rawBody);
    if (
      form.get('Action') !== 'AssumeRoleWithWebIdentity' ||
      form.get('WebIdentityToken') !== 'oidc-token-from-the-platform' ||
      form.get('RoleArn') !== 'arn:aws:iam::123456789012:role/sluice'
    ) {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>bad token</Message></Error></ErrorResponse>',
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
      <Credentials><AccessKeyId>${AWS_TEST_CREDENTIALS.accessKeyId}</AccessKeyId><SecretAccessKey>${AWS_TEST_CREDENTIALS.secretAccessKey}</SecretAccessKey>
      <SessionToken>session-token-from-sts</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
      <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/sluice/sluice</Arn><AssumedRoleId>AROATEST:sluice</AssumedRoleId></AssumedRoleUser>
      </AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`);
  });
  bedrock = await startMockBedrock((_modelId, _stream, _request, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(converseAnswer('signed with an assumed role')));
  });
  const dir = scratchDir('sluice-oidc-');
  writeFileSync(join(dir, 'token'), 'oidc-token-from-the-platform');
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  process.env.AWS_WEB_IDENTITY_TOKEN_FILE = join(dir, 'token');
  process.env.AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/sluice';
  process.env.AWS_ENDPOINT_URL_STS = sts.url;
  sluice = await startTestSluice({
    providers: { bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' }] }],
  });
});

after(async () => {
  await sluice.stop();
  await bedrock.close();
  await sts.close();
});

test('assumes the role once through STS and signs Bedrock calls with the session credentials', async () => {
  const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  for (let i = 0; i < 2; i++) {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(completion.choices[0]?.message.content, 'signed with an assumed role');
  }
  assert.equal(sts.received.length, 1, 'the assumed credentials are reused until they near expiry');
  assert.equal(bedrock.signatureFailures, 0);
  assert.equal(bedrock.received.at(-1)!.headers['x-amz-security-token'], 'session-token-from-sts');
});
