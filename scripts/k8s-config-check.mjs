// For every Deployment and Job in every rendered overlay, builds the exact environment its
// ShieldX container gets (ConfigMap envFrom + env, Secret values replaced by stand-ins, *_FILE
// secrets pointed at stand-in files) and runs `<binary> check-config` with it, so a setting
// the manifests pass but the service does not accept (or a required one they forget) fails
// here instead of crash-looping in a cluster.
//
//   node scripts/k8s-config-check.mjs REPO_ROOT BIN_DIR
// Prints one line per container and a last line "k8s-config: N passed, M failed".
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [root, binDir] = process.argv.slice(2);
const YAML = await import(path.join(root, 'tools/node_modules/yaml/dist/index.js'));
const overlays = ['deploy/k8s/base', 'deploy/k8s/overlays/dev', 'deploy/k8s/overlays/prod'];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shieldx-k8scfg-'));
let passed = 0;
let failed = 0;

function render(dir) {
  const out = execFileSync('kubectl', ['kustomize', path.join(root, dir)], { encoding: 'utf8' });
  return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter(Boolean);
}

for (const overlay of overlays) {
  const objects = render(overlay);
  const configMaps = new Map(
    objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data || {}]));
  for (const obj of objects) {
    if (obj.kind !== 'Deployment' && obj.kind !== 'Job') continue;
    const spec = obj.kind === 'Job' ? obj.spec.template.spec : obj.spec.template.spec;
    for (const c of spec.containers) {
      const cmd = [...(c.command || []), ...(c.args || [])];
      const binary = cmd.find((a) => a.startsWith('/usr/local/bin/shieldx-'));
      if (!binary) continue;
      const env = { PATH: process.env.PATH };
      for (const from of c.envFrom || []) {
        if (from.configMapRef) Object.assign(env, configMaps.get(from.configMapRef.name) || {});
      }
      for (const e of c.env || []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom && e.valueFrom.secretKeyRef) env[e.name] = 'stand-in-secret';
        else if (e.valueFrom && e.valueFrom.configMapKeyRef) {
          env[e.name] = (configMaps.get(e.valueFrom.configMapKeyRef.name) || {})[e.valueFrom.configMapKeyRef.key] || '';
        } else if (e.valueFrom) env[e.name] = 'stand-in';
      }
      // Files the config names (mounted secrets, TLS material) get stand-in contents.
      for (const [k, v] of Object.entries(env)) {
        if (/_FILE$/.test(k) && typeof v === 'string' && v.startsWith('/')) {
          const local = path.join(scratch, v);
          fs.mkdirSync(path.dirname(local), { recursive: true });
          fs.writeFileSync(local, 'host=127.0.0.1 stand-in-secret-value\n');
          env[k] = local;
        }
      }
      const bin = path.join(binDir, path.basename(binary));
      const label = `${overlay} ${obj.kind}/${obj.metadata.name}`;
      if (!fs.existsSync(bin)) {
        console.log(`FAIL ${label}: ${bin} not built`);
        failed++;
        continue;
      }
      // The subcommand the manifest runs (migrate) is replaced by check-config.
      const r = spawnSync(bin, ['check-config'], { env, encoding: 'utf8' });
      if (r.status === 0) {
        passed++;
      } else {
        failed++;
        console.log(`FAIL ${label}: ${(r.stderr || r.stdout || '').trim().split('\n')[0]}`);
      }
    }
  }
}
fs.rmSync(scratch, { recursive: true, force: true });
console.log(`k8s-config: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
