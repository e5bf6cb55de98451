package org.secondsite.processserver.internal.throttle;

import java.time.LocalDateTime;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A token bucket on bytes whose rate follows a {@link BandwidthSchedule}. Senders
 * {@link #reserve} the bytes of a frame before sending it and wait the returned time;
 * the bucket holds at most one second of tokens, so an idle link does not buy a burst
 * longer than that. The schedule can be replaced at any time ({@link #setSchedule}); waiters
 * should then call {@link #pendingDelayNanos} again. Thread-safe; time comes from the
 * injected clocks, so tests need no sleeping.
 */
public final class Throttle {
    private static final long NANOS = 1_000_000_000L;

    private final LongSupplier nanoTime;
    private final Supplier<LocalDateTime> localTime;
    private BandwidthSchedule schedule;
    private double tokens;
    private long last;
    private long lastRate = -1;

    public Throttle(BandwidthSchedule schedule, LongSupplier nanoTime, Supplier<LocalDateTime> localTime) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.nanoTime = nanoTime;
        this.localTime = localTime;
        this.last = nanoTime.getAsLong();
    }

    public synchronized void setSchedule(BandwidthSchedule schedule) {
        this.schedule = Objects.requireNonNull(schedule, "schedule");
    }

    public synchronized BandwidthSchedule schedule() {
        return schedule;
    }

    /** The rate in force now, bytes per second; 0 is unlimited. */
    public synchronized long currentRate() {
        return schedule.rateAt(localTime.get());
    }

    /**
     * Takes {@code bytes} from the bucket (going into debt if needed).
     *
     * @return nanoseconds to wait before sending them (0: send now)
     */
    public synchronized long reserve(long bytes) {
        long rate = refill();
        if (rate == 0) {
            return 0;
        }
        tokens -= bytes;
        return delay(rate);
    }

    /** Nanoseconds still to wait for the debt of earlier reservations, at the rate in force now. */
    public synchronized long pendingDelayNanos() {
        long rate = refill();
        return rate == 0 ? 0 : delay(rate);
    }

    private long refill() {
        long now = nanoTime.getAsLong();
        long rate = schedule.rateAt(localTime.get());
        if (rate == 0) {
            tokens = 0; // unlimited: forget any debt
        } else {
            if (lastRate != rate && lastRate > 0 && tokens > rate) {
                tokens = rate;
            }
            tokens = Math.min(rate, tokens + (double) (now - last) * rate / NANOS);
        }
        lastRate = rate;
        last = now;
        return rate;
    }

    private long delay(long rate) {
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens * NANOS / rate);
    }
}
