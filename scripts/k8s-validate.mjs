#!/usr/bin/env node
// Offline validation of ShieldX's Kubernetes manifests (run by scripts/tests/k8s-validate.sh).
//
// For the kustomize base, every overlay and the optional components it:
//   1. renders the tree with `kubectl kustomize` (no API server needed);
//   2. validates every object against the Kubernetes OpenAPI schemas (npm kubernetes-models,
//      `.validate()`): missing required fields, wrong types, bad enums;
//   3. rejects unknown fields (a typo such as `readOnlyRootFilesytem` passes step 2 silently;
//      the API server would reject or drop it), using the models' type declarations;
//   4. checks ShieldX policy: hardened pod specs, probes, limits, ports, labels, PDBs,
//      NetworkPolicies, migration Jobs, secret names documented in docs/runbook.md, and the
//      per-overlay promises (dev: 1 replica + debug logs; prod: runbook replicas, pinned images,
//      mTLS mounts).
// It also checks pilot/hardening/*.yml (built-in kinds validated, custom resources skipped and
// listed) and runs a self-test proving that broken manifests are caught.
//
// Output: one line per failure, a summary per target, and a last line "k8s: N passed, M failed".
// Exit status 1 when anything failed. Usage: node scripts/k8s-validate.mjs [repo-root]

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
const NODE_MODULES = path.join(ROOT, "tools", "node_modules");
const MODELS = path.join(NODE_MODULES, "kubernetes-models");
const require = createRequire(path.join(NODE_MODULES, "noop.js"));
const YAML = require("yaml");

// ---- the promises the manifests must keep -------------------------------------------------
const SERVICES = ["orchestrator", "credits", "contauth", "shadow", "twin", "webapi"];
const RUNBOOK_REPLICAS = { orchestrator: 3, credits: 2, contauth: 2, shadow: 2, twin: 1, webapi: 2 };
const NAMESPACE = "shieldx-system";
const UID = 65532;
const BASE_PORTS = { grpc: 9090, admin: 9091 };
const EXTRA_PORTS = { orchestrator: { spoe: 12345, "authz-http": 8081 }, webapi: { http: 8080 } };
const SECCOMP_LOCALHOST = "operator/shieldx-system/shieldx-service.json";

// ---- results ------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
function check(ok, what, detail = "") {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${what}${detail ? ": " + detail : ""}`);
  }
  return ok;
}

// ---- rendering ----------------------------------------------------------------------------
function render(dir) {
  return execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function parseDocs(text, origin) {
  const docs = [];
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length) throw new Error(`${origin}: YAML error: ${d.errors[0].message}`);
    const js = d.toJS();
    if (js != null) docs.push(js);
  }
  return docs;
}

const ident = (o) => `${o.kind}/${o.metadata?.name ?? "?"}`;

// ---- schema validation --------------------------------------------------------------------
function modelDir(apiVersion) {
  return path.join(MODELS, apiVersion.includes("/") ? apiVersion : path.join("v1"));
}

function isBuiltIn(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return false;
  return fs.existsSync(path.join(modelDir(apiVersion), `${kind}.js`));
}

async function schemaValidate(obj) {
  const file = path.join(modelDir(obj.apiVersion), `${obj.kind}.js`);
  const mod = await import(pathToFileURL(file).href);
  const Model = mod[obj.kind];
  try {
    new Model(obj).validate();
    return null;
  } catch (e) {
    return String(e.message ?? e).split("\n").slice(0, 4).join("; ");
  }
}

// ---- unknown-field check from the models' type declarations --------------------------------
// Each model ships a .d.ts whose first interface lists the object's fields, e.g.
//     "readOnlyRootFilesystem"?: boolean;
//     "capabilities"?: IIoK8sApiCoreV1Capabilities;
//     "containers": Array<IIoK8sApiCoreV1Container>;
// We parse that into {field -> nested type file | null} and walk the object.
const typeCache = new Map();

function resolveImport(fromFile, spec) {
  let p = spec.startsWith(".") ? path.resolve(path.dirname(fromFile), spec) : path.join(NODE_MODULES, spec);
  p = p.replace(/\.js$/, "");
  return p + ".d.ts";
}

function loadType(dtsFile) {
  if (typeCache.has(dtsFile)) return typeCache.get(dtsFile);
  const text = fs.readFileSync(dtsFile, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) imports.set(m[1], resolveImport(dtsFile, m[2]));
  const start = text.search(/^export interface \w+[^{]*\{$/m);
  let type = null; // null: a leaf (string alias such as Quantity / IntOrString)
  if (start >= 0) {
    const header = text.slice(start, text.indexOf("\n", start));
    const body = text.slice(start, text.indexOf("\n}", start));
    type = { fields: new Map(), open: false };
    if (/extends TypeMeta/.test(header)) {
      type.fields.set("apiVersion", { ref: null, array: false });
      type.fields.set("kind", { ref: null, array: false });
    }
    for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
      const [, name, t] = m;
      const arr = /^Array<(\w+)>/.exec(t);
      const ref = arr ? arr[1] : (/^(I\w+)\b/.exec(t) ?? [])[1];
      type.fields.set(name, { ref: ref && imports.has(ref) ? imports.get(ref) : null, array: !!arr });
    }
    if (/^ {4}\[key: string\]/m.test(body)) type.open = true;
  }
  typeCache.set(dtsFile, type);
  return type;
}

function unknownFields(value, dtsFile, where, out) {
  if (value == null || typeof value !== "object") return out;
  const type = loadType(dtsFile);
  if (type == null || type.open) return out;
  for (const [k, v] of Object.entries(value)) {
    const f = type.fields.get(k);
    if (!f) {
      out.push(`${where}.${k}`);
      continue;
    }
    if (!f.ref) continue;
    if (f.array && Array.isArray(v)) v.forEach((e, i) => unknownFields(e, f.ref, `${where}.${k}[${i}]`, out));
    else if (!f.array) unknownFields(v, f.ref, `${where}.${k}`, out);
  }
  return out;
}

function strictFields(obj) {
  return unknownFields(obj, path.join(modelDir(obj.apiVersion), `${obj.kind}.d.ts`), "", []).map((s) => s.slice(1));
}

// ---- ShieldX policy -----------------------------------------------------------------------
function podSecurityProblems(podSpec) {
  const p = [];
  const psc = podSpec.securityContext ?? {};
  if (podSpec.automountServiceAccountToken !== false) p.push("automountServiceAccountToken is not false");
  if (psc.runAsNonRoot !== true) p.push("pod runAsNonRoot is not true");
  if (psc.runAsUser !== UID) p.push(`pod runAsUser is ${psc.runAsUser}, want ${UID}`);
  if (!["RuntimeDefault", "Localhost"].includes(psc.seccompProfile?.type)) p.push("pod seccompProfile is not RuntimeDefault/Localhost");
  const tmp = (podSpec.volumes ?? []).find((v) => v.emptyDir);
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const n = `container ${c.name}`;
    if (sc.runAsNonRoot !== true && psc.runAsNonRoot !== true) p.push(`${n}: runAsNonRoot not set`);
    if ((sc.runAsUser ?? psc.runAsUser) !== UID) p.push(`${n}: runAsUser is not ${UID}`);
    if (sc.readOnlyRootFilesystem !== true) p.push(`${n}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) p.push(`${n}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) p.push(`${n}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) p.push(`${n}: capabilities.drop lacks ALL`);
    if (sc.capabilities?.add?.length) p.push(`${n}: adds capabilities ${sc.capabilities.add}`);
    const r = c.resources ?? {};
    for (const k of ["cpu", "memory"]) {
      if (r.limits?.[k] == null) p.push(`${n}: no ${k} limit`);
      if (r.requests?.[k] == null) p.push(`${n}: no ${k} request`);
    }
    const tmpMount = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
    if (!tmp || !tmpMount || tmpMount.name !== tmp.name) p.push(`${n}: /tmp is not an emptyDir mount`);
  }
  return p;
}

function probeProblems(c) {
  const p = [];
  for (const k of ["livenessProbe", "readinessProbe"]) if (!c[k]) p.push(`container ${c.name}: no ${k}`);
  const usesPort = (probe, port) =>
    probe?.grpc?.port === port || probe?.httpGet?.port === port || probe?.httpGet?.port === "admin";
  if (c.readinessProbe && c.readinessProbe.httpGet?.path !== "/readyz" && !c.readinessProbe.grpc)
    p.push(`container ${c.name}: readiness is neither HTTP /readyz nor gRPC health`);
  if (c.livenessProbe && !usesPort(c.livenessProbe, 9090) && !usesPort(c.livenessProbe, 9091))
    p.push(`container ${c.name}: liveness probes neither gRPC 9090 nor admin 9091`);
  return p;
}

const matches = (selector, labels) =>
  selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function envOf(c, configMaps) {
  const env = {};
  for (const ef of c.envFrom ?? []) Object.assign(env, configMaps.get(ef.configMapRef?.name)?.data ?? {});
  for (const e of c.env ?? []) env[e.name] = e.value ?? e.valueFrom;
  return env;
}

function checkDeployment(target, d, ctx) {
  const svc = d.metadata.name;
  const id = `${target}: Deployment/${svc}`;
  const tpl = d.spec.template;
  const spec = tpl.spec;
  const c = spec.containers[0];
  check(SERVICES.includes(svc), `${id} is one of the six services`);
  check(matches(d.spec.selector?.matchLabels, tpl.metadata?.labels), `${id} selector matches its pod labels`);
  const labels = tpl.metadata?.labels ?? {};
  check(labels["app.kubernetes.io/name"] === svc && labels["app.kubernetes.io/part-of"] === "shieldx",
    `${id} pod labels app.kubernetes.io/name=${svc}, part-of=shieldx`, JSON.stringify(labels));
  const probs = [...podSecurityProblems(spec), ...spec.containers.flatMap(probeProblems)];
  check(probs.length === 0, `${id} hardened pod spec, probes and resources`, probs.join("; "));
  const ann = tpl.metadata?.annotations ?? {};
  check(ann["prometheus.io/scrape"] === "true" && ann["prometheus.io/port"] === "9091" && ann["prometheus.io/path"] === "/metrics",
    `${id} prometheus.io annotations (scrape, port 9091, /metrics)`, JSON.stringify(ann));
  check(c.image?.startsWith(`shieldx/${svc}:`) || c.image?.startsWith(`shieldx/${svc}@`),
    `${id} image shieldx/${svc}:<tag>`, c.image);
  check(JSON.stringify(c.command) === JSON.stringify([`/usr/local/bin/shieldx-${svc}`]),
    `${id} runs /usr/local/bin/shieldx-${svc}`, JSON.stringify(c.command));
  const want = { ...BASE_PORTS, ...(EXTRA_PORTS[svc] ?? {}) };
  const have = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  check(JSON.stringify(Object.entries(have).sort()) === JSON.stringify(Object.entries(want).sort()),
    `${id} container ports follow the convention`, `have ${JSON.stringify(have)}, want ${JSON.stringify(want)}`);
  check(ctx.byKind("ServiceAccount").some((s) => s.metadata.name === spec.serviceAccountName),
    `${id} ServiceAccount ${spec.serviceAccountName} exists`);
  const env = envOf(c, ctx.configMaps);
  const foreign = Object.keys(env).filter((k) => !k.startsWith(`SHIELDX_${svc.toUpperCase()}_`));
  check(foreign.length === 0, `${id} env names are SHIELDX_${svc.toUpperCase()}_*`, foreign.join(", "));
  for (const ef of c.envFrom ?? [])
    check(ctx.configMaps.has(ef.configMapRef?.name), `${id} ConfigMap ${ef.configMapRef?.name} exists`);
  if (svc === "orchestrator") {
    check((spec.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname") &&
      !!spec.affinity?.podAntiAffinity, `${id} spreads replicas across nodes (topology spread + anti-affinity)`);
  }
  return { svc, replicas: d.spec.replicas ?? 1, env, spec, c, labels };
}

function checkJob(target, j, ctx) {
  const id = `${target}: Job/${j.metadata.name}`;
  const spec = j.spec.template.spec;
  const probs = podSecurityProblems(spec);
  check(probs.length === 0, `${id} hardened pod spec and resources`, probs.join("; "));
  check(spec.restartPolicy === "Never" || spec.restartPolicy === "OnFailure", `${id} restartPolicy Never/OnFailure`);
  const c = spec.containers[0];
  check(JSON.stringify(c.args) === '["migrate"]', `${id} runs "<binary> migrate"`, JSON.stringify(c.args));
  const labels = j.spec.template.metadata?.labels ?? {};
  const servers = ctx.byKind("Service").filter((s) => matches(s.spec.selector, labels));
  check(servers.length === 0, `${id} pods are not selected by any Service`, servers.map(ident).join(", "));
}

function secretRefs(obj) {
  const names = new Set();
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      if (v.secretKeyRef?.name) names.add(v.secretKeyRef.name);
      if (v.secret?.secretName) names.add(v.secret.secretName);
      if (v.secretRef?.name) names.add(v.secretRef.name);
      Object.values(v).forEach(walk);
    }
  };
  walk(obj);
  return names;
}

async function validateTarget(target, docs, expect) {
  const before = { passed, failed };
  const kinds = new Map();
  const ctx = {
    byKind: (k) => kinds.get(k) ?? [],
    configMaps: new Map(),
  };
  const skipped = [];
  for (const o of docs) {
    if (!kinds.has(o.kind)) kinds.set(o.kind, []);
    kinds.get(o.kind).push(o);
    if (o.kind === "ConfigMap") ctx.configMaps.set(o.metadata.name, o);
    if (!isBuiltIn(o.apiVersion, o.kind)) {
      skipped.push(`${o.apiVersion} ${ident(o)}`);
      continue;
    }
    const err = await schemaValidate(o);
    check(err == null, `${target}: ${ident(o)} matches the ${o.apiVersion} ${o.kind} schema`, err ?? "");
    const unknown = strictFields(o);
    check(unknown.length === 0, `${target}: ${ident(o)} has no unknown fields`, unknown.join(", "));
    const clusterScoped = ["Namespace", "PriorityClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"].includes(o.kind);
    if (expect.namespaced) {
      check(clusterScoped ? !o.metadata.namespace : o.metadata.namespace === NAMESPACE,
        `${target}: ${ident(o)} is in namespace ${NAMESPACE}`, String(o.metadata.namespace));
    }
  }
  if (expect.workloads) await checkWorkloads(target, ctx, expect);
  if (expect.extra) await expect.extra(target, docs, ctx);
  const n = passed - before.passed;
  const f = failed - before.failed;
  console.log(`${target}: ${docs.length} objects, ${n} checks passed, ${f} failed` +
    (skipped.length ? `; schema skipped for custom resources: ${skipped.join(", ")}` : ""));
  return ctx;
}

async function checkWorkloads(target, ctx, expect) {
  const deployments = ctx.byKind("Deployment").map((d) => checkDeployment(target, d, ctx));
  for (const j of ctx.byKind("Job")) checkJob(target, j, ctx);
  for (const svc of SERVICES) {
    for (const [kind, name] of [["Deployment", svc], ["Service", svc], ["ServiceAccount", `shieldx-${svc}`], ["Job", `${svc}-migrate`]])
      check(ctx.byKind(kind).some((o) => o.metadata.name === name), `${target}: ${kind}/${name} exists`);
    check([...ctx.configMaps.keys()].some((n) => n.startsWith(`shieldx-${svc}-config`)), `${target}: ConfigMap shieldx-${svc}-config exists`);
  }
  // Services route to a Deployment and to named ports that exist.
  for (const s of ctx.byKind("Service")) {
    const d = deployments.find((x) => matches(s.spec.selector, x.labels));
    if (!check(!!d, `${target}: Service/${s.metadata.name} selects a Deployment`, JSON.stringify(s.spec.selector))) continue;
    const names = new Set((d.c.ports ?? []).map((p) => p.name));
    const bad = s.spec.ports.filter((p) => typeof p.targetPort === "string" && !names.has(p.targetPort)).map((p) => p.targetPort);
    check(bad.length === 0, `${target}: Service/${s.metadata.name} target ports exist in the pod`, bad.join(", "));
  }
  // PodDisruptionBudgets: one per multi-replica service, each selecting its Deployment.
  for (const d of deployments) {
    const tplLabels = d.labels;
    const pdb = ctx.byKind("PodDisruptionBudget").find((p) => matches(p.spec.selector?.matchLabels, tplLabels));
    if (RUNBOOK_REPLICAS[d.svc] > 1) check(!!pdb, `${target}: PodDisruptionBudget covers ${d.svc}`);
    if (pdb && d.replicas > 1) check(pdb.spec.maxUnavailable != null || pdb.spec.minAvailable < d.replicas,
      `${target}: PodDisruptionBudget/${pdb.metadata.name} allows a disruption`);
    // NetworkPolicy: an ingress policy names this service's pods explicitly.
    const pols = ctx.byKind("NetworkPolicy").filter((p) => matches(p.spec.podSelector?.matchLabels, tplLabels) && (p.spec.ingress ?? []).length);
    check(pols.length > 0, `${target}: an ingress NetworkPolicy admits traffic to ${d.svc}`);
  }
  check(ctx.byKind("NetworkPolicy").some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 &&
    (p.spec.policyTypes ?? []).includes("Ingress") && !(p.spec.ingress ?? []).length), `${target}: default-deny ingress NetworkPolicy exists`);
  const prom = ctx.byKind("NetworkPolicy").find((p) => (p.spec.ingress ?? []).some((r) =>
    (r.ports ?? []).some((x) => x.port === 9091) && (r.from ?? []).some((f) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "prometheus")));
  check(!!prom, `${target}: Prometheus may scrape the admin port 9091`);
  const ns = ctx.byKind("Namespace").find((n) => n.metadata.name === NAMESPACE);
  check(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"] === "restricted",
    `${target}: Namespace ${NAMESPACE} enforces Pod Security "restricted"`);
  // Every Secret the pods reference is documented for the operator.
  const runbook = fs.existsSync(path.join(ROOT, "docs/runbook.md")) ? fs.readFileSync(path.join(ROOT, "docs/runbook.md"), "utf8") : "";
  const secrets = new Set(ctx.byKind("Deployment").concat(ctx.byKind("Job")).flatMap((o) => [...secretRefs(o)]));
  for (const s of secrets) check(runbook.includes(s), `${target}: Secret ${s} is documented in docs/runbook.md`);
  check(ctx.byKind("Secret").length === 0, `${target}: no Secret objects in the repository`);
  if (expect.perDeployment) for (const d of deployments) expect.perDeployment(target, d);
}

// ---- targets --------------------------------------------------------------------------------
const K8S = path.join(ROOT, "deploy/k8s");
const overlays = fs.readdirSync(path.join(K8S, "overlays")).filter((d) => fs.existsSync(path.join(K8S, "overlays", d, "kustomization.yaml"))).sort();

const perOverlay = {
  dev: (target, d) => {
    check(d.replicas === 1, `${target}: ${d.svc} runs 1 replica`, String(d.replicas));
    check(d.env[`SHIELDX_${d.svc.toUpperCase()}_LOG_LEVEL`] === "debug", `${target}: ${d.svc} logs at debug`);
  },
  prod: (target, d) => {
    const U = d.svc.toUpperCase();
    check(d.replicas === RUNBOOK_REPLICAS[d.svc], `${target}: ${d.svc} runs the runbook's ${RUNBOOK_REPLICAS[d.svc]} replicas`, String(d.replicas));
    check(pinned(d.c.image), `${target}: ${d.svc} image is pinned to a release tag or digest`, d.c.image);
    check(d.env[`SHIELDX_${U}_ENVIRONMENT`] === "production", `${target}: ${d.svc} runs with ENVIRONMENT=production`);
    const tlsVol = (d.spec.volumes ?? []).find((v) => v.secret?.secretName === `shieldx-${d.svc}-tls`);
    const tlsMount = tlsVol && d.c.volumeMounts.find((m) => m.name === tlsVol.name);
    check(!!tlsMount && ["CERT", "KEY", "CA"].every((k) => String(d.env[`SHIELDX_${U}_TLS_${k}_FILE`] ?? "").startsWith(tlsMount.mountPath + "/")),
      `${target}: ${d.svc} mounts shieldx-${d.svc}-tls and points TLS_{CERT,KEY,CA}_FILE into it`);
    check(!d.c.livenessProbe?.grpc, `${target}: ${d.svc} liveness does not use the plaintext kubelet gRPC probe under mTLS`);
    if (d.svc === "orchestrator")
      check((d.spec.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname" && t.whenUnsatisfiable === "DoNotSchedule"),
        `${target}: orchestrator replicas never share a node`);
  },
};

// The built-in admission policy in pilot/hardening/image-signing.yml is the source of truth for
// "pinned": reuse its regular expressions (CEL and JavaScript agree on these simple patterns).
let pinnedPatterns = null;
function pinned(image) {
  return pinnedPatterns.length > 0 && pinnedPatterns.every((group) => group.some((re) => re.test(image)));
}

async function validateHardening() {
  const dir = path.join(ROOT, "pilot/hardening");
  for (const f of ["image-signing.yml", "seccomp-profiles.yml"]) {
    const file = path.join(dir, f);
    if (!check(fs.existsSync(file), `pilot/hardening/${f} exists`)) continue;
    const docs = parseDocs(fs.readFileSync(file, "utf8"), f);
    check(docs.every((o) => o.apiVersion && o.kind && o.metadata?.name), `pilot/hardening/${f}: every document has apiVersion, kind, name`);
    await validateTarget(`pilot/hardening/${f}`, docs, {
      extra: async (target, docs2) => {
        if (f === "image-signing.yml") {
          const vap = docs2.find((o) => o.kind === "ValidatingAdmissionPolicy");
          pinnedPatterns = (vap?.spec.validations ?? []).map((v) => [...v.expression.matchAll(/matches\('([^']+)'\)/g)].map((m) => new RegExp(m[1])));
          check(pinnedPatterns.length === 2 && pinnedPatterns.every((g) => g.length > 0), `${target}: image patterns found in the admission policy`);
          check(!pinned("shieldx/orchestrator:latest") && !pinned("shieldx/orchestrator:dev") && !pinned("evil/orchestrator:1.0.0"),
            `${target}: policy rejects :latest, :dev and foreign images`);
          check(pinned("shieldx/orchestrator:1.2.3") && pinned(`registry.example.com:5000/shieldx/credits@sha256:${"a".repeat(64)}`),
            `${target}: policy admits release tags and digests`);
        } else {
          const prof = docs2.find((o) => o.kind === "SeccompProfile" && `operator/${o.metadata.namespace}/${o.metadata.name}.json` === SECCOMP_LOCALHOST);
          check(!!prof, `${target}: defines the profile ${SECCOMP_LOCALHOST} used by components/seccomp-localhost`);
          const names = prof?.spec.syscalls?.flatMap((s) => s.names) ?? [];
          check(prof?.spec.defaultAction === "SCMP_ACT_ERRNO" && names.length > 50 && new Set(names).size === names.length,
            `${target}: enforcing allow-list without duplicates`, `${names.length} syscalls`);
        }
      },
    });
  }
}

// A temporary overlay that stacks a component on prod, so components are rendered and checked too.
function renderWithComponent(component) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shieldx-k8s-"));
  try {
    fs.writeFileSync(path.join(tmp, "kustomization.yaml"),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${path.relative(tmp, path.join(K8S, "overlays/prod"))}\n` +
      `components:\n  - ${path.relative(tmp, path.join(K8S, "components", component))}\n`);
    return render(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- self-test: broken manifests must be caught --------------------------------------------
async function selfTest(goodDeployment, ctxDocs) {
  const cases = [
    ["containerPort given as a string", (d) => { d.spec.template.spec.containers[0].ports[0].containerPort = "grpc"; }],
    ["misspelt readOnlyRootFilesystem", (d) => {
      const sc = d.spec.template.spec.containers[0].securityContext;
      delete sc.readOnlyRootFilesystem; sc.readOnlyRootFilesytem = true;
    }],
    ["an unknown field (imagePullPolicyy)", (d) => { d.spec.template.spec.containers[0].imagePullPolicyy = "Always"; }],
    ["no memory limit", (d) => { delete d.spec.template.spec.containers[0].resources.limits.memory; }],
    ["no readiness probe", (d) => { delete d.spec.template.spec.containers[0].readinessProbe; }],
    ["runs as root", (d) => { d.spec.template.spec.securityContext.runAsUser = 0; }],
    ["selector does not match the pod labels", (d) => { d.spec.selector.matchLabels["app.kubernetes.io/name"] = "other"; }],
  ];
  // Failures the unmodified manifests already have (reported above) are the baseline: a case
  // counts as caught only if it adds failures of its own.
  const quietRun = async (docs) => {
    const saved = { passed, failed };
    const log = console.log;
    console.log = () => {};
    try {
      await validateTarget("self-test", docs, { workloads: true, namespaced: true });
    } finally {
      console.log = log;
    }
    const added = failed - saved.failed;
    passed = saved.passed;
    failed = saved.failed;
    return added;
  };
  const baseline = await quietRun(ctxDocs);
  for (const [name, mutate] of cases) {
    const broken = structuredClone(goodDeployment);
    mutate(broken);
    const added = await quietRun(ctxDocs.map((o) => (o === goodDeployment ? broken : o)));
    check(added > baseline, `self-test: a Deployment with ${name} is rejected`);
  }
  console.log(`self-test: ${cases.length} deliberately broken Deployments, each must be rejected`);
}

// ---- main -----------------------------------------------------------------------------------
async function main() {
  await validateHardening();
  let baseDocs = null;
  const targets = [["base", path.join(K8S, "base")], ...overlays.map((o) => [`overlays/${o}`, path.join(K8S, "overlays", o)])];
  for (const [name, dir] of targets) {
    let docs;
    try {
      docs = parseDocs(render(dir), name);
    } catch (e) {
      check(false, `${name}: kubectl kustomize renders`, String(e.stderr ?? e.message).trim().split("\n")[0]);
      continue;
    }
    check(true, `${name}: kubectl kustomize renders`);
    const o = name.split("/")[1];
    await validateTarget(name, docs, { workloads: true, namespaced: true, perDeployment: perOverlay[o] });
    if (name === "base") baseDocs = docs;
  }
  for (const o of Object.keys(perOverlay)) check(overlays.includes(o), `overlay ${o} exists`);
  const components = fs.existsSync(path.join(K8S, "components")) ? fs.readdirSync(path.join(K8S, "components")).sort() : [];
  // Components prod already uses were checked with prod; stack each other one on prod.
  const prodK = YAML.parse(fs.readFileSync(path.join(K8S, "overlays/prod/kustomization.yaml"), "utf8"));
  const inProd = new Set((prodK.components ?? []).map((c) => path.basename(c)));
  for (const comp of components.filter((c) => !inProd.has(c))) {
    const name = `overlays/prod + components/${comp}`;
    let docs;
    try {
      docs = parseDocs(renderWithComponent(comp), name);
    } catch (e) {
      check(false, `${name}: kubectl kustomize renders`, String(e.stderr ?? e.message).trim().split("\n")[0]);
      continue;
    }
    await validateTarget(name, docs, {
      workloads: true, namespaced: true,
      extra: async (target, ds) => {
        if (comp !== "seccomp-localhost") return;
        const pods = ds.filter((x) => x.kind === "Deployment" || x.kind === "Job").map((x) => x.spec.template.spec);
        check(pods.every((p) => p.securityContext.seccompProfile.localhostProfile === SECCOMP_LOCALHOST &&
          p.containers.every((c) => c.securityContext.seccompProfile.localhostProfile === SECCOMP_LOCALHOST)),
          `${target}: every pod and container uses ${SECCOMP_LOCALHOST}`);
      },
    });
  }
  if (baseDocs) await selfTest(baseDocs.find((x) => x.kind === "Deployment"), baseDocs);
  console.log(`k8s: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL validator crashed: ${e.stack ?? e}`);
  console.log(`k8s: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
