// deploy/kubernetes and deploy/Dockerfile: every manifest is valid against the Kubernetes API schemas (kubernetes-models'
// validators, compiled from the API's OpenAPI schemas and shipped in the package: nothing is fetched), and the
// deployment keeps the promises docs/scale-out.md makes (probes on /readyz and /healthz, resources, secrets, HPA, PDB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { configSchema } from '../../src/config/schema.js';
import { parse } from 'yaml';

const DEPLOY = new URL('../../../deploy/', import.meta.url);
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, DEPLOY)), 'utf8');

type Resource = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

function resources(): Resource[] {
  const kustomization = parse(read('kubernetes/kustomization.yaml')) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(read(`kubernetes/${file}`)).map((doc) => {
      assert.deepEqual(doc.errors, [], file);
      return doc.toJS() as Resource;
    }),
  );
}

test('every manifest the kustomization lists is valid against the Kubernetes schema of its kind', () => {
  const all = resources();
  assert.ok(all.length >= 12);
  for (const resource of all) {
    const Model = MODELS[`${resource.apiVersion}/${resource.kind}`];
    assert.ok(Model !== undefined, `no schema vendored for ${resource.apiVersion} ${resource.kind}`);
    assert.doesNotThrow(() => new Model(resource as never).validate(), `${resource.kind} ${resource.metadata.name}`);
  }
});

test('a manifest that breaks the schema is caught', () => {
  const deployment = resources().find((resource) => resource.kind === 'Deployment')!;
  const broken = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
  assert.throws(() => new Deployment(broken as never).validate());
});

test('the director and gateways probe /readyz and /healthz, ask for resources and take their secrets from a Secret', () => {
  const all = resources();
  for (const name of ['sluice-director', 'sluice-gateway']) {
    const deployment = new Deployment(all.find((resource) => resource.kind === 'Deployment' && resource.metadata.name === name) as never);
    const container = deployment.spec!.template.spec!.containers[0]!;
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    assert.ok(container.resources?.requests?.cpu !== undefined && container.resources.limits?.memory !== undefined);
    const fromSecret = (container.env ?? [])
      .filter((variable) => variable.valueFrom?.secretKeyRef?.name === 'sluice-secrets')
      .map((variable) => variable.name);
    assert.ok(fromSecret.includes('SLUICE_MASTER_KEY'), name);
    assert.ok(fromSecret.includes(name === 'sluice-director' ? 'SLUICE_ADMIN_TOKEN' : 'SLUICE_DIRECTOR_TOKEN'), name);
  }
  const hpa = all.find((resource) => resource.kind === 'HorizontalPodAutoscaler')!;
  assert.equal((hpa.spec!.scaleTargetRef as { name: string }).name, 'sluice-gateway');
  assert.ok(all.some((resource) => resource.kind === 'PodDisruptionBudget'));
});

test('the ConfigMap holds a sluice.yaml Sluice accepts', () => {
  const map = resources().find((resource) => resource.kind === 'ConfigMap')!;
  const result = configSchema.safeParse(parse(map.data!['sluice.yaml']!));
  assert.ok(result.success, JSON.stringify(result.error?.issues));
});

test('the image is multi-stage, runs as a non-root user, installs production dependencies only and has a healthcheck', () => {
  const dockerfile = read('Dockerfile');
  assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2);
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n.*\/healthz/m);
});
