package org.secondsite.processserver.internal.throttle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDateTime;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** Bandwidth schedules and the token bucket, on fake clocks (no sleeping). */
class ThrottleTest {
    static final LocalDateTime MONDAY_10 = LocalDateTime.of(2025, 1, 6, 10, 0);
    static final LocalDateTime MONDAY_20 = LocalDateTime.of(2025, 1, 6, 20, 0);
    static final LocalDateTime SATURDAY_10 = LocalDateTime.of(2025, 1, 11, 10, 0);

    @Test
    void scheduleRulesMatchInOrder() {
        BandwidthSchedule s = BandwidthSchedule.parse("Mon-Fri 08:00-18:00=20MB/s, Sat-Sun=100Mbit/s, *=0");
        assertEquals(20_000_000, s.rateAt(MONDAY_10));
        assertEquals(0, s.rateAt(MONDAY_20));
        assertEquals(12_500_000, s.rateAt(SATURDAY_10));
        assertEquals(0, BandwidthSchedule.parse("").rateAt(MONDAY_10));
        BandwidthSchedule night = BandwidthSchedule.parse("Fri 22:00-06:00=1MiB/s");
        assertEquals(1 << 20, night.rateAt(LocalDateTime.of(2025, 1, 10, 23, 0)));
        assertEquals(1 << 20, night.rateAt(LocalDateTime.of(2025, 1, 11, 5, 59)));
        assertEquals(0, night.rateAt(LocalDateTime.of(2025, 1, 11, 6, 0)));
    }

    @Test
    void badSchedulesAreRefusedClearly() {
        assertMessage("'Mon-Fri 08:00-18:00' is not", "Mon-Fri 08:00-18:00");
        assertMessage("'Mox' is not a day", "Mox=1MB/s");
        assertMessage("unknown unit 'MBps'", "*=20MBps");
        assertMessage("needs a unit", "*=20");
        assertMessage("25:00 is not a time of day", "Mon 08:00-25:00=1MB/s");
        assertMessage("below 1 KiB/s", "*=10B/s");
    }

    private static void assertMessage(String expected, String schedule) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BandwidthSchedule.parse(schedule));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void tokenBucketPacesToTheRateAndFollowsTheScheduleLive() {
        AtomicLong nanos = new AtomicLong(0);
        AtomicReference<LocalDateTime> now = new AtomicReference<>(MONDAY_10);
        Throttle t = new Throttle(BandwidthSchedule.parse("Mon-Fri 08:00-18:00=1MB/s, *=0"), nanos::get, now::get);
        // the bucket starts empty: 1 MB at 1 MB/s is one second of waiting
        assertEquals(1_000_000_000L, t.reserve(1_000_000));
        nanos.addAndGet(500_000_000L);
        assertEquals(500_000_000L, t.pendingDelayNanos());
        nanos.addAndGet(500_000_000L);
        assertEquals(0, t.pendingDelayNanos());
        // an idle link buys at most one second of burst
        nanos.addAndGet(10_000_000_000L);
        assertEquals(0, t.reserve(1_000_000));
        assertEquals(500_000_000L, t.reserve(500_000));
        // the schedule changes live: unlimited forgets the debt
        t.setSchedule(BandwidthSchedule.parse("*=0"));
        assertEquals(0, t.pendingDelayNanos());
        assertEquals(0, t.reserve(100_000_000));
        // back to the schedule, evening: unlimited by the '*' rule
        t.setSchedule(BandwidthSchedule.parse("Mon-Fri 08:00-18:00=1MB/s, *=0"));
        now.set(MONDAY_20);
        assertEquals(0, t.reserve(50_000_000));
        now.set(MONDAY_10);
        assertEquals(2_000_000_000L, t.reserve(2_000_000));
        assertEquals(1_000_000, t.currentRate());
    }
}
