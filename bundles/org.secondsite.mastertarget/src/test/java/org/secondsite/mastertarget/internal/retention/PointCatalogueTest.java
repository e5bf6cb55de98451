package org.secondsite.mastertarget.internal.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;

/** Points from tags: completion over the group's disks, persistence, kinds, name clashes, unknown ids. */
class PointCatalogueTest {
    static final GroupId G = GroupId.of("app");
    static final DiskId A = DiskId.of("vm1:disk0");
    static final DiskId B = DiskId.of("vm2:disk0");
    static final Instant T = Instant.parse("2026-03-01T10:00:00.123456Z");

    private final List<RetentionJournal.PointRecord> records = new ArrayList<>();

    private List<PointCatalogue.Point> commit(PointCatalogue c, PointCatalogue.TagSeen... seen) {
        PointCatalogue.Prepared p = c.prepare(List.of(seen), g -> Set.of(A, B));
        Map<Long, Long> segments = new HashMap<>();
        for (PointCatalogue.Point point : p.points()) {
            records.add(new RetentionJournal.PointRecord(point.number(), 7, PointCatalogue.payload(point)));
            segments.put(point.number(), 7L);
        }
        c.install(p, segments);
        return p.points();
    }

    private static ConsistencyTag tag(String name, TagKind kind, long millis) {
        return new ConsistencyTag(UUID.randomUUID(), name, kind, T.plusMillis(millis));
    }

    @Test
    void aTagIsAPointOnceEveryDiskOfTheGroupCommittedItAndBothSurviveAReload() {
        PointCatalogue c = new PointCatalogue();
        ConsistencyTag t = tag("before-upgrade", TagKind.APPLICATION, 0);
        assertTrue(commit(c, new PointCatalogue.TagSeen(A, G, 5, t)).isEmpty(), "B has not committed it yet");
        assertTrue(c.journaling(G), "a pending tag turns journaling on");
        assertFalse(c.journaling(GroupId.of("other")));

        Properties state = new Properties();
        c.save(state);
        PointCatalogue reloaded = PointCatalogue.load(state, records);
        List<PointCatalogue.Point> made = commit(reloaded, new PointCatalogue.TagSeen(B, G, 9, t));
        assertEquals(1, made.size(), "the pending tag was persisted");
        RecoveryPoint p = made.get(0).point();
        assertEquals(PointKind.APPLICATION_CONSISTENT, p.kind());
        assertEquals("before-upgrade", p.tagName());
        assertEquals(T, p.time());
        assertEquals(Map.of(A, 5L, B, 9L), made.get(0).sequences());

        Properties state2 = new Properties();
        reloaded.save(state2);
        PointCatalogue again = PointCatalogue.load(state2, records);
        assertEquals(List.of(p), again.list(Optional.of(G)));
        assertEquals(Map.of(A, 5L, B, 9L), again.get(p.id()).sequences());
        assertEquals(7, again.get(p.id()).segment());
        assertTrue(again.list(Optional.of(GroupId.of("other"))).isEmpty());
    }

    @Test
    void kindsMapToPointKindsAndUnnamedKindsHaveNoName() {
        assertEquals(PointKind.CRASH_CONSISTENT, PointCatalogue.kindOf(TagKind.BOOKMARK));
        assertEquals(PointKind.APPLICATION_CONSISTENT, PointCatalogue.kindOf(TagKind.APPLICATION));
        assertEquals(PointKind.APPLICATION_CONSISTENT, PointCatalogue.kindOf(TagKind.PLANNED_FAILOVER));
        assertEquals("n", PointCatalogue.nameOf(TagKind.BOOKMARK, "n"));
        for (TagKind k : TagKind.values()) {
            if (k != TagKind.BOOKMARK && k != TagKind.APPLICATION && k != TagKind.PLANNED_FAILOVER) {
                assertNull(PointCatalogue.nameOf(k, "n"), k + " points are unnamed");
                assertEquals(PointKind.CRASH_CONSISTENT, PointCatalogue.kindOf(k));
            }
        }
    }

    @Test
    void aNameClashIsListedWithASuffixAndDroppingGoesOldestFirst() {
        PointCatalogue c = new PointCatalogue();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ConsistencyTag t = tag("nightly", TagKind.BOOKMARK, i);
            commit(c, new PointCatalogue.TagSeen(A, G, 10 + i, t));
            names.add(commit(c, new PointCatalogue.TagSeen(B, G, 20 + i, t)).get(0).point().tagName());
        }
        assertEquals(List.of("nightly", "nightly#2", "nightly#3"), names);
        String oldest = c.list(Optional.empty()).get(0).id();
        assertEquals(oldest, c.dropOldest().point().id());
        UnknownPointException e = assertThrows(UnknownPointException.class, () -> c.get(oldest));
        assertTrue(e.getMessage().contains("'" + oldest + "' is not listed"), e.getMessage());
        assertTrue(e.getMessage().contains("pruned"), e.getMessage());
        Properties state = new Properties();
        c.save(state);
        assertEquals(2, PointCatalogue.load(state, records).size(), "a dropped point stays dropped after a reload");
    }

    @Test
    void aTagOneDiskNeverSendsIsForgottenAfterTheWindow() {
        PointCatalogue c = new PointCatalogue();
        commit(c, new PointCatalogue.TagSeen(A, G, 5, tag("lonely", TagKind.BOOKMARK, 0)));
        assertTrue(c.journaling(G));
        assertEquals(0, c.dropPendingBefore(T), "not older than the cutoff");
        assertEquals(1, c.dropPendingBefore(T.plusSeconds(1)));
        assertFalse(c.journaling(G), "no point and nothing pending: the group is no longer journaled");
        Properties state = new Properties();
        c.save(state);
        assertFalse(PointCatalogue.load(state, records).journaling(G));
    }
}
