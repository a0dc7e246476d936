/**
 * The interfaces the core engine needs from the outside world. The core (sdk/core) only talks to these;
 * adapters (sdk/adapters/memory, sdk/adapters/aws) implement them. Every method is a single-item operation
 * or a single paginated read: no transactions, so DynamoDB (and dynalite) can implement each one with one
 * conditional request.
 *
 * One file per port under sdk/ports/: the records they carry (records.ts), the run store (run-store.ts), events
 * and their bus (events.ts), flow-control counters (flow-store.ts), the dispatch queue and timers (messaging.ts),
 * crons (crons.ts), and the clock, request counter, payload store and the backend that bundles them (backend.ts).
 */
export * from './ports/records.ts';
export * from './ports/run-store.ts';
export * from './ports/run-intents.ts';
export * from './ports/events.ts';
export * from './ports/flow-store.ts';
export * from './ports/messaging.ts';
export * from './ports/crons.ts';
export * from './ports/backend.ts';
