import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DOCS } from '../src/log-docs';

const ROOT = join(__dirname, '..', '..');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading)
      anchors.add(
        heading[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s-]/gu, '')
          .replace(/\s/g, '-'),
      );
  }
  return anchors;
}

describe('LOG_DOCS', () => {
  it.each(Object.entries(LOG_DOCS))('%s points at a heading that exists (%s)', (_name, link) => {
    const [file, anchor] = link.split('#');
    expect(anchor).toBeTruthy();
    expect([...anchorsOf(readFileSync(join(ROOT, file!), 'utf8'))]).toContain(anchor);
  });

  it('knows a missing anchor when it sees one', () => {
    expect(anchorsOf('# Redis faults\n## Fleet dynamics: scale-out, kills\n')).toEqual(
      new Set(['redis-faults', 'fleet-dynamics-scale-out-kills']),
    );
  });
});
