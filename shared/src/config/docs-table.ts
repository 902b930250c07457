import { commonEnvSpec, FILE_VARIABLES } from './common-env';
import { gatewayEnvSpec } from './gateway-config';
import { pollerEnvSpec } from './poller-config';

/**
 * docs/CONFIGURATION.md's tables, rendered from the envalid specs so the specs
 * stay the one place a variable is described (`npm run docs:config` rewrites
 * them; shared/test/config/docs-table.test.ts fails when they drift). A tool,
 * not part of the runtime library: reached through the subpath export
 * `@matomo-live/shared/docs-table`, never through the package's index.
 */

interface SpecEntry {
  desc?: string;
  default?: unknown;
  example?: string;
}

/** The tables, by the marker name they go between (`<!-- config:NAME -->` … `<!-- /config:NAME -->`). */
export function configTables(): Record<'common' | 'poller' | 'gateway', string> {
  const own = (spec: Record<string, unknown>) => Object.fromEntries(Object.entries(spec).filter(([name]) => !(name in commonEnvSpec)));
  return {
    common: envTable(commonEnvSpec),
    poller: envTable(own(pollerEnvSpec)),
    gateway: envTable(own(gatewayEnvSpec)),
  };
}

/** One markdown table: variable, default, meaning. */
export function envTable(spec: Record<string, unknown>): string {
  const rows = Object.entries(spec as Record<string, SpecEntry>).map(([name, entry]) => {
    const file = FILE_VARIABLES.includes(name) ? `; usually given as \`${name}_FILE\`` : '';
    const example = entry.example !== undefined && !('default' in entry) ? `; e.g. \`${entry.example}\`` : '';
    return `| \`${name}\` | ${defaultText(entry)} | ${cell(entry.desc ?? '')}${example}${file} |`;
  });
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function defaultText(entry: SpecEntry): string {
  if (!('default' in entry)) return '(required)';
  if (entry.default === undefined) return '—';
  return `\`${Array.isArray(entry.default) ? entry.default.join(',') : String(entry.default)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `text` with the block between `<!-- config:NAME -->` and `<!-- /config:NAME -->` replaced by `body`; throws when a marker is missing. */
export function replaceConfigBlock(text: string, name: string, body: string): string {
  const start = `<!-- config:${name} -->`;
  const end = `<!-- /config:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the markers ${start} … ${end} are missing`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** `doc` (docs/CONFIGURATION.md) with every configuration table regenerated. */
export function renderConfigDocs(doc: string): string {
  return Object.entries(configTables()).reduce((text, [name, body]) => replaceConfigBlock(text, name, body), doc);
}
