package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

class TagScheduleTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-27T18:05:09Z"), ZoneOffset.UTC);

    @Test
    void everyGroupGetsAnApplicationTagAndARefusalOrFailureDoesNotStopTheOthers() {
        List<String> calls = new ArrayList<>();
        GroupId a = GroupId.of("erp");
        GroupId b = GroupId.of("web");
        GroupId c = GroupId.of("crm");
        TagSchedule s = new TagSchedule(Duration.ZERO, () -> List.of(a, b, c), (g, name, kind) -> {
            calls.add(g.value() + "/" + name + "/" + kind);
            if (g.equals(b)) {
                throw new IllegalStateException("agent closing");
            }
            TagResult.Status st = g.equals(a) ? TagResult.Status.TAGGED : TagResult.Status.REFUSED;
            return new TagResult(st, g, name, kind, UUID.randomUUID(), CLOCK.instant(), List.of(),
                    st == TagResult.Status.TAGGED ? "" : "pre-freeze hook exited 1", Duration.ZERO, List.of());
        }, CLOCK);
        List<TagResult> results = s.runOnce();
        s.close();
        assertEquals(List.of("erp/scheduled-20261127T180509Z/APPLICATION", "web/scheduled-20261127T180509Z/APPLICATION",
                "crm/scheduled-20261127T180509Z/APPLICATION"), calls);
        assertEquals(List.of(TagResult.Status.TAGGED, TagResult.Status.REFUSED),
                results.stream().map(TagResult::status).toList());
        assertEquals(TagKind.APPLICATION, results.get(0).kind());
    }

    @Test
    void anIntervalBelowAMinuteIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new TagSchedule(Duration.ofSeconds(30), List::of,
                (g, n, k) -> null, CLOCK));
        assertThrows(IllegalArgumentException.class, () -> new TagSchedule(Duration.ofMinutes(-1), List::of,
                (g, n, k) -> null, CLOCK));
    }
}
