/**
 * A link that leads nowhere is a bug too: every relative link of the
 * repository's Markdown (README, CONTRIBUTING, docs/, the tools' READMEs)
 * must name a file that exists, and its `#anchor` a heading of that file, as
 * GitHub spells heading anchors.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '@matomo-live/test-support/processes';

const mdIn = (dir: string) =>
  readdirSync(join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(dir, f));
const DOCS = [
  ...mdIn('.'),
  ...mdIn('docs'),
  ...readdirSync(join(REPO_ROOT, 'tools'))
    .map((d) => join('tools', d, 'README.md'))
    .filter((f) => existsSync(join(REPO_ROOT, f))),
];

/** The text outside fenced code blocks (a `#include` there is no heading, a `](x)` no link). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a Markdown file; repeated headings get -1, -2, … as on GitHub. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Problems of the relative links of one file, as `file: target`. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const problems: string[] = [];
  for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][\w+.-]*:/i.test(target!)) continue; // https:, mailto:
    const [path, anchor] = target!.split('#') as [string, string | undefined];
    const resolved = path === '' ? join(REPO_ROOT, file) : join(REPO_ROOT, dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) {
      problems.push(`${file}: ${target} (no ${relative(REPO_ROOT, resolved)})`);
      continue;
    }
    if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
    if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${file}: ${target} (no such heading)`);
  }
  return problems;
}

test('every relative link and anchor in the Markdown resolves', () => {
  expect(DOCS).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/CONFIGURATION.md']));
  expect(DOCS.flatMap(brokenLinks)).toEqual([]);
});

test("anchors are GitHub's", () => {
  expect([...anchors('# One process: `npm start`\n## Redis HA\n```\n# not a heading\n```\n## Redis HA\n')]).toEqual([
    'one-process-npm-start',
    'redis-ha',
    'redis-ha-1',
  ]);
  expect(slug('Health endpoint (`POLLER_HEALTH_PORT`, default 8081; 0 = off)')).toBe(
    'health-endpoint-poller_health_port-default-8081-0--off',
  );
});
