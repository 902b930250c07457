/**
 * Home of the visit-event messages (not implemented yet).
 *
 * Snapshots carry the latest state; a later version adds a stream of single
 * visits next to them, as control-style messages with a `type`:
 *
 * - `{"type":"visit", ...}`: one new or updated visit;
 * - `{"type":"events_reset", ...}`: the event stream restarted; drop what you
 *   derived from earlier events.
 *
 * Their types go here and are re-exported from index.ts, next to the snapshot
 * types, so the gateway and the client share one definition. Today's clients
 * ignore messages whose `type` they do not know (docs/PROTOCOL.md), which is
 * what makes adding them safe.
 */
export {};
