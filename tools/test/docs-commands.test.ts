/**
 * A README command that does not work is a bug. What can be checked without
 * running them: every `npm run X` / `npm X` the docs give is a script of
 * package.json, every repository file they point at exists, and the compose
 * command has one spelling (Compose v2's `docker compose`; v1's name is
 * mentioned once, in the README).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@matomo-live/test-support/processes';

const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const text = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
/** What a reader copies: fenced code blocks and inline code spans. */
const code = (file: string) => [...text(file).matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((m) => m[1] ?? m[2]).join('\n');
const scripts = (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts;
/** npm's own commands, which need no script. */
const NPM_COMMANDS = new Set(['ci', 'install', 'exec', 'run', 'pack']);

test('every npm command in the docs is an npm command or a script of package.json', () => {
  const unknown: string[] = [];
  for (const file of DOCS) {
    for (const [, runScript, command] of code(file).matchAll(/\bnpm (?:run ([\w:-]+)|([a-z][\w:-]*))/g)) {
      const name = runScript ?? command!;
      if (runScript === undefined && NPM_COMMANDS.has(name)) continue;
      // `npm test` and `npm start` are the scripts test and start; `npm run X` needs script X.
      if (!(name in scripts)) unknown.push(`${file}: npm ${runScript ? 'run ' : ''}${name}`);
    }
  }
  expect(unknown).toEqual([]);
  expect(scripts['test:e2e']).toMatch(/e2e/);
});

test('every repository file the docs name in code spans exists', () => {
  const missing: string[] = [];
  const pathLike =
    /`((?:deploy|docs|tools|client|gateway|poller|shared|protocol|standalone|test-support|bench)\/[\w./-]+\.\w+|docker-compose[\w.]*\.yml|\.env\.example|Dockerfile\.\w+)`/g;
  for (const file of DOCS) {
    for (const [, path] of text(file).matchAll(pathLike)) {
      // Build and benchmark outputs exist only after `npm run build` / `npm run bench`.
      if (/\/dist\/|^bench\/results\//.test(path!)) continue;
      if (!existsSync(join(REPO_ROOT, path!))) missing.push(`${file}: ${path}`);
    }
  }
  expect(missing).toEqual([]);
});

test("the compose command is spelt `docker compose`; Compose v1's `docker-compose` is named once, in the README", () => {
  const v1 = /docker-compose(?![.\w-])/g;
  const mentions = DOCS.flatMap((file) => [...text(file).matchAll(v1)].map(() => file));
  expect(mentions).toEqual(['README.md']);
  for (const file of ['docker-compose.yml', 'docker-compose.tls.yml', '.env.example'])
    expect([file, text(file).match(v1)]).toEqual([file, null]);
});
