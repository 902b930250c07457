/**
 * `npm run typecheck` is `tsc -b tsconfig.json`: it checks exactly the files of
 * the projects the root tsconfig.json references. A .ts file outside all of
 * them (a new test directory, a helper next to a config) would never be
 * type-checked, so this fails naming it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '@matomo-live/test-support/processes';

const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.git', 'coverage', 'test-artifacts']);

/** Every .ts file of the repository (declaration files included), relative to its root. */
function repositoryTsFiles(dir = REPO_ROOT): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) files.push(...repositoryTsFiles(join(dir, entry.name)));
    } else if (entry.name.endsWith('.ts')) {
      files.push(relative(REPO_ROOT, join(dir, entry.name)));
    }
  }
  return files;
}

/** The files of a project and of every project it references, with each project's config path. */
function projectFiles(configPath: string, seen = new Set<string>()): { projects: string[]; files: Set<string> } {
  const files = new Set<string>();
  const projects: string[] = [];
  const visit = (path: string) => {
    const config = ts.sys.fileExists(path) ? path : join(path, 'tsconfig.json');
    if (seen.has(config)) return;
    seen.add(config);
    projects.push(relative(REPO_ROOT, config));
    const parsed = ts.getParsedCommandLineOfConfigFile(
      config,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    );
    if (parsed === undefined) throw new Error(`cannot read ${config}`);
    for (const file of parsed.fileNames) files.add(relative(REPO_ROOT, resolve(file)));
    for (const reference of parsed.projectReferences ?? []) visit(reference.path);
  };
  visit(configPath);
  return { projects, files };
}

describe('npm run typecheck', () => {
  const { projects, files } = projectFiles(join(REPO_ROOT, 'tsconfig.json'));

  it('is tsc -b of the root tsconfig.json', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.typecheck).toBe('tsc -b tsconfig.json');
  });

  it('covers every .ts file in the repository', () => {
    const uncovered = repositoryTsFiles().filter((file) => !files.has(file));
    expect(uncovered).toEqual([]);
  });

  it('builds every tsconfig.json of the repository', () => {
    expect(findConfigs().filter((config) => !projects.includes(config))).toEqual([]);
  });

  it('would notice a file left out', () => {
    const { files: protocolOnly } = projectFiles(join(REPO_ROOT, 'protocol', 'tsconfig.json'), new Set());
    expect(repositoryTsFiles().filter((file) => !protocolOnly.has(file))).toContain(join('gateway', 'src', 'gateway.ts'));
  });
});

/** Every tsconfig.json below the root (the root one is the solution itself). */
function findConfigs(dir = REPO_ROOT): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIPPED_DIRECTORIES.has(entry.name)) found.push(...findConfigs(join(dir, entry.name)));
    else if (entry.name === 'tsconfig.json' && dir !== REPO_ROOT) found.push(relative(REPO_ROOT, join(dir, entry.name)));
  }
  return found;
}
