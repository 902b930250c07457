import { Counter, Gauge, type Registry } from 'prom-client';
import { SentTally } from './sent-tally';

/** The visit events' metrics, on the gateway's registry. */
export class EventMetrics {
  /** Event writes, tallied per client write and folded into the counters when scraped. */
  readonly sent = new SentTally();
  /** Read at scrape time: clients receiving or replaying events; set by the EventHub. */
  clientsOf: () => number = () => 0;
  readonly clients: Gauge;
  readonly messagesSent: Counter;
  readonly bytesSent: Counter;
  readonly replays: Counter<'outcome'>;
  readonly replayedEvents: Counter;
  readonly resets: Counter<'reason'>;
  readonly gaps: Counter<'site'>;
  readonly heals: Counter<'site'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.clients = new Gauge({
      name: 'matomo_live_gateway_event_clients',
      help: 'Connections that asked for visit events (live or replaying)',
      registers,
      collect: () => this.clients.set(this.clientsOf()),
    });
    this.messagesSent = new Counter({
      name: 'matomo_live_gateway_events_sent_total',
      help: 'Visit event messages (visits and events_reset) written to clients',
      registers,
      collect: () => this.sent.fold('messages', this.messagesSent),
    });
    this.bytesSent = new Counter({
      name: 'matomo_live_gateway_event_bytes_sent_total',
      help: 'Visit event bytes (frames) written to clients',
      registers,
      collect: () => this.sent.fold('bytes', this.bytesSent),
    });
    this.replays = new Counter({
      name: 'matomo_live_gateway_event_replays_total',
      help: 'Connections with since=: resumed (every event after it replayed) or reset (since unknown or too old)',
      labelNames: ['outcome'],
      registers,
    });
    this.replayedEvents = new Counter({
      name: 'matomo_live_gateway_events_replayed_total',
      help: 'Events written to clients by replays (since= or rewind=)',
      registers,
    });
    this.resets = new Counter({
      name: 'matomo_live_gateway_event_resets_total',
      help: 'events_reset messages sent to one client, by reason (start, since-unknown); gaps count on their own',
      labelNames: ['reason'],
      registers,
    });
    this.gaps = new Counter({
      name: 'matomo_live_gateway_event_gaps_total',
      help: 'Times the events stream no longer continued from what the gateway had (trimmed past it, or lost in a failover): live clients got events_reset',
      labelNames: ['site'],
      registers,
    });
    this.heals = new Counter({
      name: 'matomo_live_gateway_event_heals_total',
      help: 'Events read from the stream because their message never arrived (found by the periodic check)',
      labelNames: ['site'],
      registers,
    });
  }

  /** Counts one message written to a client. */
  count(bytes: number): void {
    this.sent.messages += 1;
    this.sent.bytes += bytes;
  }
}
