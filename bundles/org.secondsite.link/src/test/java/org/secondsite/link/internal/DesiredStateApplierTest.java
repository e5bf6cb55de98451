package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class DesiredStateApplierTest {
    private final MapConfigStore store = new MapConfigStore();
    private final DesiredStateApplier applier = new DesiredStateApplier(store);

    @Test
    void singletonEntriesMergeTheirKeysAndKeepTheOthers() throws Exception {
        store.configs.put("org.secondsite.agent", new HashMap<>(Map.of("dataDir", "/var/agent",
                "felix.fileinstall.filename", "file:/etc/org.secondsite.agent.cfg", "checkpointMillis", "1000")));
        DesiredStateApplier.Outcome o = applier.apply(DesiredStateDecoder.decode(DesiredStateDecoderTest.CONTRACT_EXAMPLE));
        assertEquals(new DesiredStateApplier.Outcome(2, 0, 0), o);
        Map<String, Object> agent = store.configs.get("org.secondsite.agent");
        assertEquals("/var/agent", agent.get("dataDir"));
        assertEquals("file:/etc/org.secondsite.agent.cfg", agent.get("felix.fileinstall.filename"));
        assertEquals("127.0.0.1:9443", agent.get("processServer"));
        assertEquals(60L, agent.get("appTagMinutes"));
    }

    @Test
    void aConfigurationIsWrittenOnlyWhenAValueDiffers() throws Exception {
        DesiredState d = DesiredStateDecoder.decode(DesiredStateDecoderTest.CONTRACT_EXAMPLE);
        applier.apply(d);
        int writes = store.writes.get();
        assertEquals(new DesiredStateApplier.Outcome(0, 2, 0), applier.apply(d), "the same document again");
        assertEquals(writes, store.writes.get());

        // Karaf's .cfg files give text back: the same values as text are not a difference.
        Map<String, Object> agent = store.configs.get("org.secondsite.agent");
        agent.put("checkpointMillis", "1000");
        agent.put("appTagMinutes", 60); // an Integer from a typed .config file
        assertEquals(new DesiredStateApplier.Outcome(0, 2, 0), applier.apply(d));
        assertEquals(writes, store.writes.get());

        DesiredState changed = DesiredStateDecoder.decode(DesiredStateDecoderTest.CONTRACT_EXAMPLE
                .replace("\"checkpointMillis\":1000", "\"checkpointMillis\":250"));
        assertEquals(new DesiredStateApplier.Outcome(1, 1, 0), applier.apply(changed));
        assertEquals(250L, store.configs.get("org.secondsite.agent").get("checkpointMillis"));
    }

    @Test
    void factoryEntriesCarryTheMarkerAndOnlyMarkedUnlistedOnesAreDeleted() throws Exception {
        String disk = "org.secondsite.agent.disk";
        store.putFactory(disk, "gone", Map.of("diskId", "gone:disk0", DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));
        store.putFactory(disk, "by-hand", Map.of("diskId", "hand:disk0"));
        store.putFactory("org.secondsite.other", "marked", Map.of(DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));
        store.putFactory(disk, "web01-disk0", Map.of("diskId", "web01:disk0", "resyncRequest", 3L,
                DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));

        DesiredStateApplier.Outcome o = applier.apply(DesiredStateDecoder.decode(DesiredStateDecoderTest.CONTRACT_EXAMPLE));
        assertEquals(1, o.deleted());
        assertNull(store.configs.get(disk + "~gone"));
        assertNotNull(store.configs.get(disk + "~by-hand"), "no marker: never touched");
        assertNotNull(store.configs.get("org.secondsite.other~marked"), "a factory PID not managed: untouched");
        Map<String, Object> web = store.configs.get(disk + "~web01-disk0");
        assertEquals(DesiredState.MARKER_VALUE, web.get(DesiredState.MARKER_KEY));
        assertEquals("/dev/sdb", web.get("source"));
        assertEquals(3L, web.get("resyncRequest"), "keys the document does not list are kept");
    }

    @Test
    void anEmptyListUnderAManagedFactoryDeletesEveryMarkedConfiguration() throws Exception {
        String disk = "org.secondsite.agent.disk";
        store.putFactory(disk, "a", Map.of(DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));
        store.putFactory(disk, "b", Map.of(DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE));
        store.putFactory(disk, "c", Map.of(DesiredState.MARKER_KEY, "someone-else"));
        DesiredStateApplier.Outcome o = applier.apply(new DesiredState(2, List.of(), List.of(disk)));
        assertEquals(2, o.deleted());
        assertEquals(List.of(disk + "~c"), List.copyOf(store.configs.keySet()));
    }

    @Test
    void aWriteThatFailsNamesTheConfiguration() {
        store.failingPid = "org.secondsite.agent";
        DesiredStateException e = assertThrows(DesiredStateException.class,
                () -> applier.apply(DesiredStateDecoder.decode(DesiredStateDecoderTest.CONTRACT_EXAMPLE)));
        assertTrue(e.getMessage().contains("configuration org.secondsite.agent could not be written: disk full"),
                e.getMessage());
    }

    @Test
    void valueComparison() {
        assertTrue(DesiredStateApplier.same("5", 5L));
        assertTrue(DesiredStateApplier.same("true", true));
        assertTrue(DesiredStateApplier.same(5, 5L));
        assertTrue(DesiredStateApplier.same(new String[] {"a"}, new String[] {"a"}));
        assertTrue(DesiredStateApplier.same(List.of("a", "b"), new String[] {"a", "b"}));
        assertFalse(DesiredStateApplier.same("a,b", new String[] {"a", "b"}));
        assertFalse(DesiredStateApplier.same(5.0, 5L));
        assertFalse(DesiredStateApplier.same(null, "x"));
        assertFalse(DesiredStateApplier.same("6", 5L));
    }
}
