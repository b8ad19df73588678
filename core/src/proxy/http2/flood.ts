/**
 * Flood guards: token buckets for the frames that cost us work but cost the peer nothing. Time
 * comes from the connection's clock option, so the codec keeps no timers.
 * @internal
 */
import type { FloodLimits, RateLimit } from './types.js';

/** Defaults of {@link FloodLimits} (the reset figures are nghttp2's rapid-reset defaults). */
export const DEFAULT_FLOOD_LIMITS: Readonly<FloodLimits> = {
  resets: { burst: 1000, perSecond: 33 },
  pings: { burst: 100, perSecond: 10 },
  settings: { burst: 100, perSecond: 10 },
  emptyFrames: { burst: 1000, perSecond: 100 },
  maxContinuations: 16,
};

/** `burst` events at once, then `perSecond` on average. */
export class RateBucket {
  private tokens: number;
  private last = -1;

  constructor(private readonly limit: RateLimit) {
    this.tokens = limit.burst;
  }

  /** Takes one token at time `now` (ms); false when none is left. */
  take(now: number): boolean {
    if (this.last >= 0 && now > this.last) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.perSecond) / 1000);
    }
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
