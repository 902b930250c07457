// docs/CONFIGURATION.md is the one page listing every setting: its tables are
// rendered from the envalid specs (npm run docs:config) and must not drift;
// every variable the compose files and .env.example use is listed there too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as shared from '@matomo-live/shared';
import { commonEnvSpec, gatewayEnvSpec, pollerEnvSpec } from '@matomo-live/shared';
import { configTables, envTable, renderConfigDocs, replaceConfigBlock } from '@matomo-live/shared/docs-table';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const doc = read('docs/CONFIGURATION.md');

test("docs/CONFIGURATION.md's tables are the specs' (npm run docs:config)", () => {
  expect(renderConfigDocs(doc)).toBe(doc);
});

test('every variable of every spec has its row', () => {
  const names = [...Object.keys(commonEnvSpec), ...Object.keys(pollerEnvSpec), ...Object.keys(gatewayEnvSpec)];
  expect(names.length).toBeGreaterThan(40);
  expect(names.filter((name) => !doc.includes(`| \`${name}\` |`))).toEqual([]);
});

test('every variable the compose files and .env.example use is listed', () => {
  const used = new Set<string>();
  for (const file of ['docker-compose.yml', 'docker-compose.tls.yml', 'docker-compose.sentinel.yml']) {
    const withoutComments = read(file).replace(/^\s*#.*$/gm, '');
    for (const [, name] of withoutComments.matchAll(/\$\{([A-Z][A-Z0-9_]*)[:}-]/g)) used.add(name!);
  }
  for (const [, name] of read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)) used.add(name!);
  expect(used.size).toBeGreaterThan(20);
  const listed = (name: string) => doc.includes(`\`${name}\``) || (name.endsWith('_FILE') && doc.includes(`\`${name.slice(0, -5)}\``));
  expect([...used].filter((name) => !listed(name))).toEqual([]);
});

test('the runtime library does not carry the generator', () => {
  expect(Object.keys(shared).filter((name) => /config(Docs|Tables)|envTable|replaceConfigBlock/.test(name))).toEqual([]);
});

describe('drift is caught', () => {
  test('a description changed in the page but not in the spec is put back', () => {
    const edited = doc.replace('| `LIVE_LIMIT` | `5` | latest visits in each snapshot', '| `LIVE_LIMIT` | `5` | visits per tick');
    expect(edited).not.toBe(doc);
    expect(renderConfigDocs(edited)).toBe(doc);
  });

  test('a page without the markers is refused, naming them', () => {
    expect(() => replaceConfigBlock('# no tables here', 'poller', 'x')).toThrow('<!-- config:poller --> … <!-- /config:poller -->');
  });
});

describe('the tables', () => {
  test('service tables leave out what the common table has', () => {
    const tables = configTables();
    expect(tables.common).toContain('| `REDIS_URL` |');
    expect(tables.poller).not.toContain('| `REDIS_URL` |');
    expect(tables.gateway).not.toContain('| `LOG_LEVEL` |');
    expect(tables.poller).toContain('| `MATOMO_URL` | (required) |');
  });

  test('a row shows the default, escapes pipes, names the _FILE form of secrets and an example of required ones', () => {
    const table = envTable({
      MATOMO_TOKEN: { desc: 'the token' },
      A_LIST: { default: ['1', '2'], desc: 'one | two' },
      UNSET: { default: undefined, desc: 'optional' },
      NEEDED: { desc: 'required', example: 'x=1' },
    });
    expect(table.split('\n')).toEqual([
      '| variable | default | meaning |',
      '| --- | --- | --- |',
      '| `MATOMO_TOKEN` | (required) | the token; usually given as `MATOMO_TOKEN_FILE` |',
      '| `A_LIST` | `1,2` | one \\| two |',
      '| `UNSET` | — | optional |',
      '| `NEEDED` | (required) | required; e.g. `x=1` |',
    ]);
  });
});
