/**
 * The Kubernetes manifests, checked without a cluster: `kubectl kustomize` renders each overlay
 * and the monitoring bundle; every object validates against the Kubernetes (and Prometheus
 * Operator) schemas through kubernetes-models; probes point at routes the server answers; the
 * container args parse with the server's own config parser; the security context and shutdown
 * timing hold; and every metric the dashboard and the alert rules name exists in a real /metrics
 * scrape after traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseCli } from '../../src/config/config.js';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> };

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ConfigMap': ConfigMap,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function render(dir: string): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error) throw new Error(`kubectl is needed to render the manifests (kubectl kustomize): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
}

const validate = (o: Obj) => {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  expect(Model, `no schema for ${o.apiVersion} ${o.kind}`).toBeDefined();
  new Model!(o as never).validate();
};

const OVERLAYS = ['cpu', 'nvidia-gpu'] as const;
const rendered = Object.fromEntries(OVERLAYS.map((o) => [o, render(`deploy/kubernetes/overlays/${o}`)])) as Record<
  (typeof OVERLAYS)[number],
  Obj[]
>;
const monitoring = render('deploy/monitoring');
const find = (objs: Obj[], kind: string) => objs.find((o) => o.kind === kind)!;
type Container = {
  args: string[];
  image: string;
  readinessProbe: Probe;
  livenessProbe: Probe;
  startupProbe: Probe;
  securityContext: Record<string, unknown>;
  resources: { limits: Record<string, unknown> };
  lifecycle: { preStop: { exec: { command: string[] } } };
};
type Probe = { httpGet: { path: string } };
const podSpec = (o: Obj) => (o.spec as { template: { spec: Record<string, unknown> & { containers: Container[] } } }).template.spec;

describe('Kubernetes manifests', () => {
  it('every rendered object validates against its schema (and the validator does reject a bad one)', () => {
    for (const objs of [...Object.values(rendered), monitoring]) for (const o of objs) validate(o);
    const kinds = rendered.cpu.map((o) => o.kind).sort();
    expect(kinds).toEqual([
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'Job',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'Service',
    ]);
    const bad = structuredClone(find(rendered.cpu, 'Deployment')) as Obj & { spec: { replicas: unknown } };
    bad.spec.replicas = 'two';
    expect(() => validate(bad)).toThrow();
  });

  it('the container args parse with the server’s own parser, as the pod would run them', () => {
    const keys = join(mkdtempSync(join(tmpdir(), 'hfms-keys-')), 'api-keys');
    writeFileSync(keys, 'a-key-for-the-test\n');
    const asPod = (args: string[]) =>
      args.map((a) =>
        a.replace('/etc/hf-model-server/keys/api-keys', keys).replaceAll('$(POD_IP)', '10.1.2.3').replaceAll('$(POD_NAMESPACE)', 'default'),
      );
    for (const overlay of OVERLAYS) {
      const c = podSpec(find(rendered[overlay], 'Deployment')).containers[0]!;
      const { config } = parseCli(asPod(c.args), {});
      expect(config).toMatchObject({
        transport: 'http',
        host: '0.0.0.0',
        stateless: true,
        cacheDir: '/models',
        device: overlay === 'cpu' ? 'cpu' : 'cuda',
      });
      expect(config.allowedHosts).toContain('10.1.2.3');
      expect(config.apiKeys).toHaveLength(1);
      const job = podSpec(find(rendered[overlay], 'Job')).containers[0]!;
      expect(parseCli(job.args, {}).pull).toEqual(['all-minilm-l6-v2', 'qwen2.5-0.5b-instruct']);
      expect(job.image).toBe(c.image);
    }
    const gpu = podSpec(find(rendered['nvidia-gpu'], 'Deployment'));
    expect(gpu.containers[0]!.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(gpu.containers[0]!.image).toMatch(/-cuda$/);
  });

  it('the deploy docs name every Secret and the image the manifests use, and say how to set the image', () => {
    const docs = readFileSync('docs/deploy.md', 'utf8');
    const all = JSON.stringify([...rendered.cpu, ...rendered['nvidia-gpu'], ...monitoring]);
    const secrets = new Set(
      [...all.matchAll(/"secretName":"([^"]+)"/g), ...all.matchAll(/"secretKeyRef":\{[^}]*"name":"([^"]+)"/g)].map((m) => m[1]!),
    );
    for (const m of all.matchAll(/"credentials":\{[^}]*"name":"([^"]+)"/g)) secrets.add(m[1]!);
    expect([...secrets].sort()).toEqual(['hf-model-server-keys', 'hf-model-server-metrics', 'hf-model-server-tls', 'hf-token']);
    for (const name of secrets) expect(docs, name).toMatch(new RegExp(`secret (generic|tls) ${name} `));
    const images = new Set([...all.matchAll(/"image":"([^":]+):/g)].map((m) => m[1]!));
    expect([...images]).toEqual(['ghcr.io/hf-model-server/hf-model-server']);
    expect(docs).toContain(`kustomize edit set image ${[...images][0]}=`);
  });

  it('runs unprivileged, and gives the shutdown grace room before the kill', () => {
    const spec = podSpec(find(rendered.cpu, 'Deployment'));
    const c = spec.containers[0]!;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const { config } = parseCli(
      c.args.filter((a) => !a.startsWith('--api-key-file')),
      {},
    );
    // Per-address limits behind the Ingress need the forwarded client address.
    expect(config.trustedProxies.length).toBeGreaterThan(0);
    // No Kubernetes API token in any pod: the server never uses one.
    for (const kind of ['Deployment', 'Job'])
      for (const overlay of ['cpu', 'nvidia-gpu'] as const)
        expect(podSpec(find(rendered[overlay], kind)).automountServiceAccountToken, `${overlay} ${kind}`).toBe(false);
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    expect(Number(spec.terminationGracePeriodSeconds)).toBeGreaterThan(preStop + config.shutdownGraceMs / 1000);
    const hpa = find(rendered.cpu, 'HorizontalPodAutoscaler').spec as {
      minReplicas: number;
      maxReplicas: number;
      metrics: Array<{ type: string }>;
    };
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([2, 10]);
    expect(hpa.metrics.map((m) => m.type).sort()).toEqual(['Pods', 'Resource']);
    const adapter = find(monitoring, 'ConfigMap').data?.['config.yaml'];
    expect(adapter).toContain('hf_model_server_queue_depth');
    expect(find(rendered.cpu, 'PersistentVolumeClaim').spec).toMatchObject({ accessModes: ['ReadWriteMany'] });
  });

  describe('against a running server', () => {
    let base: string;
    beforeAll(async () => {
      base = (await startHttpApp({ cacheBytes: 64e6 })).base;
    });
    afterAll(closeHttpApps);

    it('probes point at routes the server answers', async () => {
      const c = podSpec(find(rendered.cpu, 'Deployment')).containers[0]!;
      for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe])
        expect((await fetch(`${base}${p.httpGet.path}`)).status, p.httpGet.path).toBe(200);
      const sm = find(monitoring, 'ServiceMonitor').spec as { endpoints: Array<{ path: string }> };
      expect((await fetch(`${base}${sm.endpoints[0]!.path}`)).status).toBe(200);
    });

    it('every metric the dashboard and the alert rules name exists in a /metrics scrape after traffic', async () => {
      const post = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await post('/v1/embeddings', { input: ['hello', 'world'] });
      await post('/v1/embeddings', { input: 'x', model: 'broken-embedder' });
      await post('/v1/embeddings', { input: 'again' });
      const scrape = await (await fetch(`${base}/metrics`)).text();
      const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
      const exprs = [
        ...(find(monitoring, 'PrometheusRule').spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) =>
          g.rules.map((r) => r.expr),
        ),
        ...(
          JSON.parse(readFileSync('deploy/monitoring/grafana-dashboard.json', 'utf8')) as {
            panels: Array<{ targets: Array<{ expr: string }> }>;
          }
        ).panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ];
      // Metrics from elsewhere in the cluster, named on purpose.
      const external = new Set(['kube_deployment_status_replicas_available', 'kube_deployment_spec_replicas']);
      const names = new Set(exprs.flatMap(metricNames));
      expect(names.size).toBeGreaterThan(10);
      for (const n of names) {
        if (external.has(n)) continue;
        const base = n.replace(/_(bucket|sum|count)$/, '');
        expect(exported.has(n) || exported.has(base), `${n} is not in the /metrics scrape`).toBe(true);
      }
      expect(scrape).toMatch(/model_requests_total\{model="broken-embedder",hardware="[^"]*",status="model_load_failed"\} 1/);
      expect(scrape).toMatch(/hardware_utilization_percent\{hardware="cpu"\} \d/);
    });
  });
});

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/** Metric names in a PromQL expression: identifiers outside label matchers, ranges, grouping lists and strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w));
}
