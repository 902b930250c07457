/** Reading what a TestClient got when it asked for visit events (`?events=visits`). */
import type { EventMessage, EventsResetMessage, VisitEventMessage } from '@matomo-live/protocol';
import type { TestClient } from './ws-client';

/** The client's messages that are events, in order. */
export function eventsOf(client: TestClient): EventMessage[] {
  return client.messages.flatMap((text) => {
    const message = JSON.parse(text) as { type?: unknown };
    return message.type === 'visit' || message.type === 'events_reset' ? [message as EventMessage] : [];
  });
}

export function visitsOf(client: TestClient): VisitEventMessage[] {
  return eventsOf(client).filter((m): m is VisitEventMessage => m.type === 'visit');
}

export function resetsOf(client: TestClient): EventsResetMessage[] {
  return eventsOf(client).filter((m): m is EventsResetMessage => m.type === 'events_reset');
}

/** The client's messages that are not events (snapshots, pongs), parsed. */
export function nonEventsOf(client: TestClient): Array<Record<string, unknown>> {
  return client.messages
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .filter((m) => m.type !== 'visit' && m.type !== 'events_reset');
}

/** Resolves once the client has `count` visit events (rejects after `timeoutMs` naming what it has). */
export async function untilVisits(client: TestClient, count: number, timeoutMs = 15_000): Promise<VisitEventMessage[]> {
  await client.until(() => visitsOf(client).length >= count, `${count} visit events (have ${visitsOf(client).length})`, timeoutMs);
  return visitsOf(client);
}
