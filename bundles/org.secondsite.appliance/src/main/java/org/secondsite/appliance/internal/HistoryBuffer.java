package org.secondsite.appliance.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bounded in-memory history of each disk's replication figures: one ring of {@code capacity}
 * samples per disk, at most {@code maxDisks} disks (a disk beyond that is not recorded until one
 * is forgotten). A disk no longer reported is forgotten once its newest sample is older than the
 * ring's span. Memory: about 32 bytes per sample, so one day at 10 s (8640 samples) is ~276 KB a
 * disk. Not thread-safe on its own: {@link ReplicationHistory} synchronises.
 */
public final class HistoryBuffer {
    /** One sample of a disk: RPO (oldest write not yet in the replica), backlog, rates in and out. */
    public record Sample(Instant time, long rpoMillis, long backlogBytes, double inPerSecond, double outPerSecond) {
    }

    private static final class Ring {
        final long[] time;
        final long[] rpo;
        final long[] backlog;
        final float[] in;
        final float[] out;
        int next;
        int size;

        Ring(int capacity) {
            time = new long[capacity];
            rpo = new long[capacity];
            backlog = new long[capacity];
            in = new float[capacity];
            out = new float[capacity];
        }

        void add(Sample s) {
            time[next] = s.time().toEpochMilli();
            rpo[next] = s.rpoMillis();
            backlog[next] = s.backlogBytes();
            in[next] = (float) s.inPerSecond();
            out[next] = (float) s.outPerSecond();
            next = (next + 1) % time.length;
            size = Math.min(size + 1, time.length);
        }

        long newest() {
            return time[(next - 1 + time.length) % time.length];
        }
    }

    private final int capacity;
    private final int maxDisks;
    private final Duration span;
    private final Map<String, Ring> rings = new LinkedHashMap<>();

    /**
     * @param capacity samples kept per disk
     * @param maxDisks disks recorded at most
     * @param span how long a silent disk's history is kept
     */
    HistoryBuffer(int capacity, int maxDisks, Duration span) {
        if (capacity < 1 || maxDisks < 1) {
            throw new IllegalArgumentException("capacity and maxDisks must be positive");
        }
        this.capacity = capacity;
        this.maxDisks = maxDisks;
        this.span = span;
    }

    /**
     * Records one round of samples taken at {@code now}, by disk; forgets disks absent for longer
     * than the span.
     *
     * @return the disks that could not be recorded because {@code maxDisks} are recorded already
     */
    List<String> record(Instant now, Map<String, Sample> round) {
        long horizon = now.minus(span).toEpochMilli();
        rings.entrySet().removeIf(e -> !round.containsKey(e.getKey()) && e.getValue().newest() < horizon);
        List<String> refused = new ArrayList<>();
        for (Map.Entry<String, Sample> e : round.entrySet()) {
            Ring r = rings.get(e.getKey());
            if (r == null) {
                if (rings.size() >= maxDisks) {
                    refused.add(e.getKey());
                    continue;
                }
                r = new Ring(capacity);
                rings.put(e.getKey(), r);
            }
            r.add(e.getValue());
        }
        return refused;
    }

    /** The disks with a history. */
    Set<String> disks() {
        return Set.copyOf(rings.keySet());
    }

    /** The samples of {@code disk} taken after {@code since}, oldest first (empty for an unknown disk). */
    List<Sample> since(String disk, Instant since) {
        Ring r = rings.get(disk);
        List<Sample> out = new ArrayList<>();
        if (r == null) {
            return out;
        }
        long from = since.toEpochMilli();
        int start = (r.next - r.size + capacity) % capacity;
        for (int i = 0; i < r.size; i++) {
            int k = (start + i) % capacity;
            if (r.time[k] > from) {
                out.add(new Sample(Instant.ofEpochMilli(r.time[k]), r.rpo[k], r.backlog[k], r.in[k], r.out[k]));
            }
        }
        return out;
    }
}
