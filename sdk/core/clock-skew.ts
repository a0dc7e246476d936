/**
 * Events carry the pusher's clock, and EventBridge's own `time` has second precision: an event stamped up to
 * this much before a wait began still matches it (in the router and when a wait registers alike).
 */
export const CLOCK_SKEW_GRACE_MS = 1_000;
