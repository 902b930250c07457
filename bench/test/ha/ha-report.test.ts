import { redisHaSection } from '../../src/ha/ha-report';
import { haResults as ha } from './ha-rows';

describe('the Redis HA section', () => {
  it('shows failover timings as median (min–max) seconds, and the cost per change', () => {
    const text = redisHaSection(ha);
    expect(text).toContain('| sentinel | 1 master | 3 | 1.4 s (1.3–1.5) | 2.5 s (2.4–2.6) | 1.1 s (1.0–1.2) | 0 of 30 |');
    expect(text).toContain('| SPUBLISH | 9.0 | 13,000 | 1.0 | 2,000 | 1 |');
  });

  it('says how to run it when it was not, and prints a failed mode in its row', () => {
    expect(redisHaSection(undefined)).toContain('(not run: `npm run bench -- --only=ha`)');
    const failed = redisHaSection({ ...ha, failover: [{ ...ha.failover[0]!, rounds: [], error: 'no | quorum' }] });
    expect(failed).toContain('| sentinel | failed: no / quorum |');
  });
});
