import type { SimVisit } from './sim-visit';

/** Real cities with real coordinates, so maps on the demo dashboard look right. */
export const CITIES = [
  {
    city: 'Paris',
    region: 'Île-de-France',
    country: 'France',
    countryCode: 'fr',
    continent: 'Europe',
    continentCode: 'eur',
    latitude: 48.8566,
    longitude: 2.3522,
  },
  {
    city: 'Bezons',
    region: 'Île-de-France',
    country: 'France',
    countryCode: 'fr',
    continent: 'Europe',
    continentCode: 'eur',
    latitude: 48.924,
    longitude: 2.213,
  },
  {
    city: 'Berlin',
    region: 'Land Berlin',
    country: 'Germany',
    countryCode: 'de',
    continent: 'Europe',
    continentCode: 'eur',
    latitude: 52.52,
    longitude: 13.405,
  },
  {
    city: 'Madrid',
    region: 'Madrid',
    country: 'Spain',
    countryCode: 'es',
    continent: 'Europe',
    continentCode: 'eur',
    latitude: 40.4168,
    longitude: -3.7038,
  },
  {
    city: 'London',
    region: 'England',
    country: 'United Kingdom',
    countryCode: 'gb',
    continent: 'Europe',
    continentCode: 'eur',
    latitude: 51.5072,
    longitude: -0.1276,
  },
  {
    city: 'New York',
    region: 'New York',
    country: 'United States',
    countryCode: 'us',
    continent: 'North America',
    continentCode: 'amn',
    latitude: 40.7128,
    longitude: -74.006,
  },
  {
    city: 'São Paulo',
    region: 'São Paulo',
    country: 'Brazil',
    countryCode: 'br',
    continent: 'South America',
    continentCode: 'ams',
    latitude: -23.5505,
    longitude: -46.6333,
  },
  {
    city: 'Tokyo',
    region: 'Tokyo',
    country: 'Japan',
    countryCode: 'jp',
    continent: 'Asia',
    continentCode: 'asi',
    latitude: 35.6762,
    longitude: 139.6503,
  },
  {
    city: 'Sydney',
    region: 'New South Wales',
    country: 'Australia',
    countryCode: 'au',
    continent: 'Oceania',
    continentCode: 'oce',
    latitude: -33.8688,
    longitude: 151.2093,
  },
  {
    city: 'Nairobi',
    region: 'Nairobi County',
    country: 'Kenya',
    countryCode: 'ke',
    continent: 'Africa',
    continentCode: 'afr',
    latitude: -1.2921,
    longitude: 36.8219,
  },
  {
    city: 'Mumbai',
    region: 'Maharashtra',
    country: 'India',
    countryCode: 'in',
    continent: 'Asia',
    continentCode: 'asi',
    latitude: 19.076,
    longitude: 72.8777,
  },
  {
    city: 'Montréal',
    region: 'Quebec',
    country: 'Canada',
    countryCode: 'ca',
    continent: 'North America',
    continentCode: 'amn',
    latitude: 45.5019,
    longitude: -73.5674,
  },
] as const;

const SYSTEMS = [
  { operatingSystem: 'Mac 10.15', operatingSystemName: 'Mac', deviceType: 'Desktop' },
  { operatingSystem: 'Windows 11', operatingSystemName: 'Windows', deviceType: 'Desktop' },
  { operatingSystem: 'GNU/Linux', operatingSystemName: 'GNU/Linux', deviceType: 'Desktop' },
  { operatingSystem: 'Android 14', operatingSystemName: 'Android', deviceType: 'Smartphone' },
  { operatingSystem: 'iOS 17.5', operatingSystemName: 'iOS', deviceType: 'Smartphone' },
] as const;

const BROWSERS = [
  { browser: 'Chrome 126.0', browserName: 'Chrome' },
  { browser: 'Firefox 128.0', browserName: 'Firefox' },
  { browser: 'Safari 17.5', browserName: 'Safari' },
  { browser: 'Microsoft Edge 126.0', browserName: 'Microsoft Edge' },
] as const;

const REFERRERS = [
  { referrerType: 'direct', referrerName: '', referrerUrl: null },
  { referrerType: 'search', referrerName: 'Google', referrerUrl: 'https://www.google.com/' },
  { referrerType: 'search', referrerName: 'DuckDuckGo', referrerUrl: 'https://duckduckgo.com/' },
  { referrerType: 'website', referrerName: 'news.ycombinator.com', referrerUrl: 'https://news.ycombinator.com/' },
  { referrerType: 'social', referrerName: 'Mastodon', referrerUrl: 'https://mastodon.social/' },
] as const;

const PAGES = ['Home', 'Pricing', 'Blog', 'Documentation', 'Contact', 'About us'] as const;

/** A small seeded PRNG (mulberry32): the same seed gives the same visits. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every field of a plausible visit ending at `nowSeconds`; ids are the caller's. */
export function syntheticVisit(random: () => number, nowSeconds: number, mainUrl: string): Omit<SimVisit, 'idSite' | 'idVisit'> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const actions = 1 + Math.floor(random() * 6);
  const visitDuration = actions === 1 ? 0 : Math.floor(random() * 600);
  const page = pick(PAGES);
  return {
    visitorId: Math.floor(random() * 2 ** 48)
      .toString(16)
      .padStart(12, '0')
      .slice(0, 16),
    firstActionTimestamp: nowSeconds - visitDuration,
    lastActionTimestamp: nowSeconds,
    actions,
    visitDuration,
    visitIp: `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.0.0`,
    ...pick(CITIES),
    ...pick(SYSTEMS),
    ...pick(BROWSERS),
    ...pick(REFERRERS),
    url: `${mainUrl.replace(/\/$/, '')}/${page.toLowerCase().replace(/ /g, '-')}/`,
    pageTitle: page,
    visitorType: random() < 0.7 ? 'new' : 'returning',
    converted: random() < 0.05,
  };
}
