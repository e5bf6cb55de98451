package org.secondsite.appliance.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class HistoryBufferTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

    private static HistoryBuffer.Sample s(int secs, long rpo) {
        return new HistoryBuffer.Sample(T0.plusSeconds(secs), rpo, rpo * 10, 1.5, 2.5);
    }

    @Test
    void keepsTheNewestSamplesUpToItsCapacityInOrder() {
        HistoryBuffer b = new HistoryBuffer(5, 4, Duration.ofDays(1));
        for (int i = 0; i < 12; i++) {
            b.record(T0.plusSeconds(i * 10L), Map.of("d0", s(i * 10, i)));
        }
        List<HistoryBuffer.Sample> all = b.since("d0", T0.minusSeconds(1));
        assertEquals(List.of(7L, 8L, 9L, 10L, 11L), all.stream().map(HistoryBuffer.Sample::rpoMillis).toList());
        assertEquals(s(110, 11), all.get(4));
        assertEquals(List.of(10L, 11L), b.since("d0", T0.plusSeconds(90)).stream()
                .map(HistoryBuffer.Sample::rpoMillis).toList());
        assertTrue(b.since("unknown", T0).isEmpty());
    }

    @Test
    void boundsTheDisksAndForgetsOnesSilentForLongerThanTheSpan() {
        HistoryBuffer b = new HistoryBuffer(10, 2, Duration.ofMinutes(5));
        assertEquals(List.of("c"), b.record(T0, ordered("a", "b", "c")));
        assertEquals(Set.of("a", "b"), b.disks());
        // b goes silent; after the span it is forgotten and c gets its place.
        b.record(T0.plusSeconds(60), ordered("a"));
        assertEquals(Set.of("a", "b"), b.disks());
        assertEquals(List.of(), b.record(T0.plusSeconds(400), ordered("a", "c")));
        assertEquals(Set.of("a", "c"), b.disks());
    }

    private static Map<String, HistoryBuffer.Sample> ordered(String... disks) {
        Map<String, HistoryBuffer.Sample> m = new java.util.LinkedHashMap<>();
        for (String d : disks) {
            m.put(d, s(0, 1));
        }
        return m;
    }
}
