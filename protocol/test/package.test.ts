/**
 * The package's promises, checked on its files: no runtime dependency, and no
 * import of anything but its own modules (a browser bundle and the Node client
 * take it as is). tsconfig.json enforces "no Node or DOM API" at compile time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

describe('@matomo-live/protocol', () => {
  it('has no dependencies of any kind', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      expect([field, pkg[field]]).toEqual([field, undefined]);
  });

  it('imports nothing but its own modules', () => {
    const sources = readdirSync(join(root, 'src')).filter((f) => f.endsWith('.ts'));
    expect(sources).toContain('index.ts');
    for (const file of sources) {
      const text = readFileSync(join(root, 'src', file), 'utf8');
      const specifiers = [...text.matchAll(/\b(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect([file, specifiers.filter((s) => !s?.startsWith('./'))]).toEqual([file, []]);
    }
  });
});
