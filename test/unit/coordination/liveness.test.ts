import { describe, expect, it } from 'vitest';
import { LivenessTracker, ManualClock, Sighting } from '../../../core/coordination/index.js';

describe('Class: Sighting', () => {
  describe('Method: isExpired', () => {
    it('is expired exactly when the duration has passed since the sighting', () => {
      const seen = new Sighting('v1', 1_000);

      expect(seen.isExpired(500, 1_499)).toBe(false);
      expect(seen.isExpired(500, 1_500)).toBe(true);
      expect(seen.remainingMs(500, 1_200)).toBe(300);
      expect(seen.remainingMs(500, 9_000)).toBe(0);
    });
  });
});

describe('Class: LivenessTracker', () => {
  describe('Method: observe', () => {
    it('starts the wait at the first sighting of a signature, on the observer clock', async () => {
      // Prepare
      const clock = new ManualClock();
      const tracker = new LivenessTracker({ clock });

      // Act
      const first = tracker.observe('k', 'v1', 1_000);
      await clock.advance(999);
      const before = tracker.observe('k', 'v1', 1_000);
      await clock.advance(1);
      const at = tracker.observe('k', 'v1', 1_000);

      // Assert
      expect(first).toMatchObject({ expired: false, remainingMs: 1_000 });
      expect(before).toMatchObject({ expired: false, remainingMs: 1 });
      expect(at).toMatchObject({ expired: true, remainingMs: 0, silentForMs: 1_000, byWallClock: false });
    });

    it('restarts the wait whenever the signature changes', async () => {
      const clock = new ManualClock();
      const tracker = new LivenessTracker({ clock });
      tracker.observe('k', 'v1', 1_000);
      await clock.advance(900);

      const changed = tracker.observe('k', 'v2', 1_000);
      await clock.advance(900);
      const later = tracker.observe('k', 'v2', 1_000);

      expect(changed.remainingMs).toBe(1_000);
      expect(later).toMatchObject({ expired: false, remainingMs: 100 });
    });

    it('ignores wall clocks entirely unless the fast path is configured', async () => {
      const clock = new ManualClock();
      const tracker = new LivenessTracker({ clock });
      clock.shiftWall(3_600_000);

      const verdict = tracker.observe('k', 'v1', 1_000, clock.wallNow() - 7_200_000);

      expect(verdict.expired).toBe(false);
    });

    it('on the fast path, expires at first sight only beyond duration plus the skew allowance', () => {
      const clock = new ManualClock();
      const tracker = new LivenessTracker({ clock, clockSkewAllowanceMs: 60_000 });

      const recent = tracker.observe('a', 'v1', 1_000, clock.wallNow() - 60_999);
      const old = tracker.observe('b', 'v1', 1_000, clock.wallNow() - 61_000);

      expect(recent.expired).toBe(false);
      expect(old).toMatchObject({ expired: true, byWallClock: true });
    });
  });

  describe('Method: retainOnly', () => {
    it('forgets keys that disappeared, so a returning key starts a fresh wait', async () => {
      const clock = new ManualClock();
      const tracker = new LivenessTracker({ clock });
      tracker.observe('a', 'v1', 1_000);
      tracker.observe('b', 'v1', 1_000);
      await clock.advance(2_000);

      tracker.retainOnly(['a']);

      expect(tracker.sightingOf('b')).toBeUndefined();
      expect(tracker.observe('a', 'v1', 1_000).expired).toBe(true);
      expect(tracker.observe('b', 'v1', 1_000).expired).toBe(false);
    });
  });
});
