import type { DaySummary, LiveVisit, SnapshotContent } from '@matomo-live/protocol';

function day(date: string, visits: number, seconds: number): DaySummary {
  const hms = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return { visits, time_spent: hms, date, time_spent_seconds: seconds, actions: visits * 3, unique_visitors: visits, bounce_count: 0 };
}

export function visit(city: string, latitude: number, longitude: number, time = '2026-11-22 06:00:00'): LiveVisit {
  return {
    latitude,
    longitude,
    city,
    countryCode: 'fr',
    country: 'France',
    actions: 2,
    visitIp: '',
    operatingSystem: 'GNU/Linux',
    browserName: 'Firefox',
    source: '',
    lastActionDateTime: time,
    lastActionUtc: `${time.replace(' ', 'T')}Z`,
  };
}

/** A plausible snapshot content whose today's visit count is `todayVisits`. */
export function snapshotContent(todayVisits: number, visits: LiveVisit[] = [visit('Paris', 48.86, 2.35)]): SnapshotContent {
  return {
    visits_live: visits,
    summary: {
      today: day('2026-11-22', todayVisits, todayVisits * 61),
      yesterday: day('2026-11-21', 40, 3000),
      day_before: day('2026-11-20', 38, 2900),
    },
    counters: { minutes: 30, visits: 3, actions: 9, visitors: 3, visits_converted: 0 },
    site: 1,
    timezone: 'Europe/Paris',
  };
}
