/**
 * A "busy site" for the Matomo-cost benchmark: a UTC site filled with raw-log
 * visits by SQL (not through the tracker), so the queries the pollers cause
 * meet a realistic table: VISITS_TODAY visits spread from UTC midnight to now
 * (2 in 3 with 3 actions over 121 s, 1 in 3 bounces) and OLD_VISITS one-action
 * visits over the 30 days before. Rows are copies of the seed's first visit
 * and action (idvisit 1, idlink_va 1) with the fields that matter changed.
 * Built once per Matomo base (found again by its name).
 */
import type { BenchMatomo } from '../real-matomo-instance';

export const BUSY_SITE_NAME = 'matomo-live bench busy site';
export const VISITS_TODAY = 50_000;
export const OLD_VISITS = 200_000;

/** The busy site's id, creating and filling it when this Matomo has none. */
export async function busySite(matomo: BenchMatomo, log: (line: string) => void): Promise<number> {
  const sites = (await matomo.api('SitesManager.getSitesWithAdminAccess')) as Array<{ idsite: number | string; name: string }>;
  const existing = sites.find((s) => s.name === BUSY_SITE_NAME);
  if (existing) return Number(existing.idsite);
  const added = (await matomo.api('SitesManager.addSite', {
    siteName: BUSY_SITE_NAME,
    'urls[0]': 'https://busy.example.com',
    timezone: 'UTC',
    currency: 'EUR',
  })) as { value: number };
  const siteId = added.value;
  log(`busy site ${siteId}: inserting ${VISITS_TODAY} visits today and ${OLD_VISITS} older ones`);
  matomo.sql(fillSql(matomo, siteId, Math.floor(Date.now() / 1000)), true);
  return siteId;
}

function columns(matomo: BenchMatomo, table: string): string[] {
  return matomo
    .sql(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'matomo' AND table_name = '${table}' ORDER BY ordinal_position`,
    )
    .split('\n');
}

function fillSql(matomo: BenchMatomo, siteId: number, nowS: number): string {
  const visitColumns = columns(matomo, 'matomo_log_visit');
  const actionColumns = columns(matomo, 'matomo_log_link_visit_action');
  const midnight = Math.floor(nowS / 86_400) * 86_400;
  const span = Math.max(60, nowS - midnight - 5);
  const at = `(${midnight} + FLOOR(s.seq * ${span} / ${VISITS_TODAY}))`;
  const visitor = (offset: number) => `UNHEX(LPAD(HEX(${offset} + s.seq), 16, '0'))`;
  const today: Record<string, string> = {
    idvisit: '@base + s.seq',
    idsite: String(siteId),
    idvisitor: visitor(0),
    config_id: visitor(0),
    visit_last_action_time: `FROM_UNIXTIME(${at})`,
    visit_first_action_time: `FROM_UNIXTIME(${at} - IF(s.seq % 3 = 0, 0, 120))`,
    visit_total_actions: 'IF(s.seq % 3 = 0, 1, 3)',
    visit_total_interactions: 'IF(s.seq % 3 = 0, 1, 3)',
    visit_total_time: 'IF(s.seq % 3 = 0, 0, 121)',
    location_latitude: '35.0 + (s.seq % 100) / 100',
    location_longitude: '139.0 + (s.seq % 100) / 100',
  };
  const actions: Record<string, string> = {
    idlink_va: 'NULL',
    idsite: String(siteId),
    idvisitor: visitor(0),
    idvisit: '@base + s.seq',
    server_time: `FROM_UNIXTIME(${at} - k.off)`,
    pageview_position: 'k.pos',
  };
  const oldAt = `(${midnight} - 30*86400 + FLOOR(s.seq * (30*86400 - 3600) / ${OLD_VISITS}))`;
  const old: Record<string, string> = {
    ...today,
    idvisitor: visitor(10_000_000),
    config_id: visitor(10_000_000),
    visit_last_action_time: `FROM_UNIXTIME(${oldAt})`,
    visit_first_action_time: `FROM_UNIXTIME(${oldAt})`,
    visit_total_actions: '1',
    visit_total_interactions: '1',
    visit_total_time: '0',
  };
  const pick = (cols: string[], over: Record<string, string>, template: string) =>
    cols.map((c) => over[c] ?? `${template}.${c}`).join(', ');
  return `SET time_zone = '+00:00';
SET @base = (SELECT MAX(idvisit) FROM matomo_log_visit);
INSERT INTO matomo_log_visit (${visitColumns.join(', ')}) SELECT ${pick(visitColumns, today, 't')} FROM seq_1_to_${VISITS_TODAY} s JOIN matomo_log_visit t ON t.idvisit = 1;
CREATE TEMPORARY TABLE k (off INT, pos INT); INSERT INTO k VALUES (0,3),(60,2),(120,1);
INSERT INTO matomo_log_link_visit_action (${actionColumns.join(', ')}) SELECT ${pick(actionColumns, actions, 'a')} FROM seq_1_to_${VISITS_TODAY} s JOIN k JOIN matomo_log_link_visit_action a ON a.idlink_va = 1 WHERE s.seq % 3 <> 0 OR k.off = 0;
SET @base = (SELECT MAX(idvisit) FROM matomo_log_visit);
INSERT INTO matomo_log_visit (${visitColumns.join(', ')}) SELECT ${pick(visitColumns, old, 't')} FROM seq_1_to_${OLD_VISITS} s JOIN matomo_log_visit t ON t.idvisit = 1;
ANALYZE TABLE matomo_log_visit, matomo_log_link_visit_action;
`;
}
