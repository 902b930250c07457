import { formatLocalDateTime, type SiteTimezone } from '@matomo-live/shared';

/** One stored visit: the facts the simulator keeps, in Matomo's own field names. */
export interface SimVisit {
  idSite: number;
  idVisit: number;
  visitorId: string;
  /** Unix seconds (UTC), as Matomo's *Timestamp fields. */
  firstActionTimestamp: number;
  lastActionTimestamp: number;
  actions: number;
  /** Seconds. */
  visitDuration: number;
  visitIp: string;
  city: string;
  region: string;
  country: string;
  countryCode: string;
  continent: string;
  continentCode: string;
  /** null when the location is unknown, as in Matomo. */
  latitude: number | null;
  longitude: number | null;
  operatingSystem: string;
  operatingSystemName: string;
  browser: string;
  browserName: string;
  deviceType: string;
  referrerType: string;
  referrerName: string;
  referrerUrl: string | null;
  url: string;
  pageTitle: string;
  visitorType: 'new' | 'returning';
  converted: boolean;
}

/** What a test or the control API may give for a new visit; the rest is synthesized. */
export type SimVisitInput = Partial<Omit<SimVisit, 'idSite' | 'idVisit'>> & { siteId?: number };

export interface SiteInfo {
  idSite: number;
  name: string;
  mainUrl: string;
  timezone: string;
  zone: SiteTimezone;
}

/**
 * The visit as Live.getLastVisitsDetails answers it: field names, types
 * (counts and ids are ints, coordinates strings with six decimals), UTC
 * `lastActionDateTime`, site-local `serverTimePretty`, modelled on the real
 * Matomo 5.2 answers in poller/test/fixtures/real-matomo/.
 */
export function toMatomoVisit(v: SimVisit, site: SiteInfo, withActions: boolean): Record<string, unknown> {
  const lastMs = v.lastActionTimestamp * 1000;
  const firstMs = v.firstActionTimestamp * 1000;
  const utc = new Date(lastMs).toISOString();
  const localFirst = formatLocalDateTime(firstMs, site.zone);
  const localLast = formatLocalDateTime(lastMs, site.zone);
  const osCode = v.operatingSystemName.slice(0, 3).toUpperCase();
  const browserCode = v.browserName.slice(0, 2).toUpperCase();
  return {
    idSite: v.idSite,
    idVisit: v.idVisit,
    visitIp: v.visitIp,
    visitorId: v.visitorId,
    fingerprint: v.visitorId.split('').reverse().join(''),
    actionDetails: withActions ? actionDetails(v, site) : [],
    goalConversions: v.converted ? 1 : 0,
    siteCurrency: 'EUR',
    siteCurrencySymbol: '€',
    serverDate: utc.slice(0, 10),
    // Unpadded, as Matomo sends it ("9").
    visitServerHour: String(Number(utc.slice(11, 13))),
    lastActionTimestamp: v.lastActionTimestamp,
    lastActionDateTime: `${utc.slice(0, 10)} ${utc.slice(11, 19)}`,
    siteName: site.name,
    serverTimestamp: v.lastActionTimestamp,
    firstActionTimestamp: v.firstActionTimestamp,
    serverTimePretty: localLast.slice(11),
    serverDatePretty: prettyDate(localLast),
    serverDatePrettyFirstAction: prettyDate(localFirst),
    serverTimePrettyFirstAction: localFirst.slice(11),
    userId: null,
    visitorType: v.visitorType,
    visitorTypeIcon: v.visitorType === 'returning' ? 'plugins/Live/images/returningVisitor.png' : null,
    visitConverted: v.converted ? 1 : 0,
    visitConvertedIcon: v.converted ? 'plugins/Morpheus/images/goal.png' : null,
    visitCount: v.visitorType === 'new' ? 1 : 2,
    visitEcommerceStatus: 'none',
    visitEcommerceStatusIcon: null,
    daysSinceFirstVisit: 0,
    secondsSinceFirstVisit: 0,
    daysSinceLastEcommerceOrder: 0,
    secondsSinceLastEcommerceOrder: null,
    visitDuration: v.visitDuration,
    visitDurationPretty: prettyDuration(v.visitDuration),
    searches: 0,
    actions: v.actions,
    interactions: v.actions,
    referrerType: v.referrerType,
    referrerTypeName: referrerTypeName(v.referrerType),
    referrerName: v.referrerName,
    referrerKeyword: v.referrerType === 'search' ? 'Keyword not defined' : '',
    referrerKeywordPosition: null,
    referrerUrl: v.referrerUrl,
    referrerSearchEngineUrl: v.referrerType === 'search' ? `http://${v.referrerName.toLowerCase()}.com` : null,
    referrerSearchEngineIcon: null,
    referrerSocialNetworkUrl: null,
    referrerSocialNetworkIcon: null,
    languageCode: 'en-us',
    language: 'Language code en-us',
    deviceType: v.deviceType,
    deviceTypeIcon: `plugins/Morpheus/icons/dist/devices/${v.deviceType.toLowerCase()}.png`,
    deviceBrand: 'Unknown',
    deviceModel: 'Generic',
    operatingSystem: v.operatingSystem,
    operatingSystemName: v.operatingSystemName,
    operatingSystemIcon: `plugins/Morpheus/icons/dist/os/${osCode}.png`,
    operatingSystemCode: osCode,
    operatingSystemVersion: v.operatingSystem.slice(v.operatingSystemName.length).trim(),
    browserFamily: 'Blink',
    browserFamilyDescription: 'Blink (Chrome, Opera)',
    browser: v.browser,
    browserName: v.browserName,
    browserIcon: `plugins/Morpheus/icons/dist/browsers/${browserCode}.png`,
    browserCode,
    browserVersion: v.browser.slice(v.browserName.length).trim(),
    events: 0,
    continent: v.continent,
    continentCode: v.continentCode,
    country: v.country,
    countryCode: v.countryCode,
    countryFlag: `plugins/Morpheus/icons/dist/flags/${v.countryCode}.png`,
    // Matomo sends null for an unknown region or city.
    region: v.region === '' ? null : v.region,
    regionCode: null,
    city: v.city === '' ? null : v.city,
    location: [v.city, v.region, v.country].filter((s) => s !== '').join(', '),
    // Matomo sends coordinates as strings with six decimals, and null when unknown.
    latitude: v.latitude === null ? null : v.latitude.toFixed(6),
    longitude: v.longitude === null ? null : v.longitude.toFixed(6),
    visitLocalTime: localFirst.slice(11),
    visitLocalHour: String(Number(localFirst.slice(11, 13))),
    daysSinceLastVisit: 0,
    secondsSinceLastVisit: 0,
    resolution: '1440x900',
    plugins: 'cookie, pdf',
    pluginsIcons: [
      { pluginIcon: 'plugins/Morpheus/icons/dist/plugins/cookie.png', pluginName: 'cookie' },
      { pluginIcon: 'plugins/Morpheus/icons/dist/plugins/pdf.png', pluginName: 'pdf' },
    ],
  };
}

function actionDetails(v: SimVisit, site: SiteInfo): Array<Record<string, unknown>> {
  const step = v.actions > 1 ? Math.floor(v.visitDuration / (v.actions - 1)) : 0;
  return Array.from({ length: v.actions }, (_, i) => {
    const timestamp = v.firstActionTimestamp + i * step;
    const url = i === v.actions - 1 ? v.url : `${site.mainUrl.replace(/\/$/, '')}/page-${i + 1}/`;
    return {
      type: 'action',
      url,
      pageTitle: i === v.actions - 1 ? v.pageTitle : `Page ${i + 1}`,
      pageIdAction: 100 + i,
      idpageview: `pv${v.idVisit}${i}`,
      serverTimePretty: prettyDateTime(formatLocalDateTime(timestamp * 1000, site.zone)),
      pageId: v.idVisit * 10 + i,
      timeSpent: i === v.actions - 1 ? 0 : step,
      timeSpentPretty: prettyDuration(i === v.actions - 1 ? 0 : step),
      pageviewPosition: i + 1,
      title: i === v.actions - 1 ? v.pageTitle : `Page ${i + 1}`,
      subtitle: url,
      icon: '',
      iconSVG: 'plugins/Morpheus/images/action.svg',
      timestamp,
    };
  });
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** "2026-11-29 18:33:11" (site wall clock) → "Sunday, November 29, 2026", Matomo's serverDatePretty. */
function prettyDate(local: string): string {
  const d = new Date(`${local.slice(0, 10)}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]}, ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

/** "2026-11-29 18:33:11" → "Nov 29, 2026 18:33:11", Matomo's action serverTimePretty. */
function prettyDateTime(local: string): string {
  const d = new Date(`${local.slice(0, 10)}T00:00:00Z`);
  return `${MONTHS[d.getUTCMonth()]!.slice(0, 3)} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${local.slice(11, 19)}`;
}

function prettyDuration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m} min ${s}s` : `${s}s`;
}

function referrerTypeName(type: string): string {
  return { search: 'Search Engines', website: 'Websites', social: 'Social Networks', campaign: 'Campaigns' }[type] ?? 'Direct Entry';
}
