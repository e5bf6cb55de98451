package org.secondsite.appliance.internal.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import org.junit.jupiter.api.Test;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor.Stage;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.replication.Tracking;
import org.secondsite.appliance.internal.ReplicationOverview;

class ReplicationMetricsTest {
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
    /** One sample line of the exposition format: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Test
    void disksAtEachStageAndTheProcessBecomeSamples() {
        DiskReplicationStatus agent = new DiskReplicationStatus(DiskId.of("vm1:disk0"), Stage.AGENT, "replicating", "",
                42, 40, 8192, NOW.minusMillis(1500), null, 1_000_000, 900_000,
                new Tracking(Tracking.Mode.SPILL, 100, 200, 300),
                new ResyncProgress(ResyncProgress.Phase.COMPARING, "initial replication", 1000, 250, 40, NOW, NOW, ""));
        DiskReplicationStatus mt = new DiskReplicationStatus(DiskId.of("vm1:disk0"), Stage.MASTER_TARGET, "replicating",
                "", 40, 40, 0, null, NOW.minusSeconds(2), 900_000, 900_000);
        String text = ReplicationMetrics.render(List.of(new ReplicationOverview.Row(agent, 1234.5, 99),
                new ReplicationOverview.Row(mt, 0, 0)), new ReplicationMetrics.Process(10, 20, 0.25, Double.NaN, 2), NOW);
        Map<String, String> samples = parse(text);
        assertEquals("8192", samples.get("secondsite_disk_backlog_bytes{disk=vm1:disk0,stage=agent}"));
        assertEquals("1.5", samples.get("secondsite_disk_lag_seconds{disk=vm1:disk0,stage=agent}"));
        assertEquals("0", samples.get("secondsite_disk_lag_seconds{disk=vm1:disk0,stage=master-target}"));
        assertEquals("1234.5", samples.get("secondsite_disk_received_bytes_per_second{disk=vm1:disk0,stage=agent}"));
        assertEquals("1", samples.get("secondsite_disk_state{disk=vm1:disk0,stage=agent,state=replicating}"));
        assertEquals("200", samples.get("secondsite_disk_tracking_bytes{disk=vm1:disk0,tier=cache}"));
        assertEquals("25", samples.get("secondsite_disk_resync_percent{disk=vm1:disk0,phase=comparing}"));
        assertEquals(String.valueOf(NOW.getEpochSecond() - 2),
                samples.get("secondsite_disk_newest_applied_write_timestamp_seconds{disk=vm1:disk0,stage=master-target}"));
        assertEquals("NaN", samples.get("secondsite_system_cpu_load"));
        assertEquals("0.25", samples.get("secondsite_process_cpu_load"));
        // Each family is described once, before its samples.
        assertEquals(1, lines(text).filter(l -> l.equals("# TYPE secondsite_disk_tracking_bytes gauge")).count());
        assertTrue(text.contains("# TYPE secondsite_disk_sent_bytes_total counter\n"));
    }

    @Test
    void badNamesAreRefused() {
        PrometheusText t = new PrometheusText();
        assertThrows(IllegalArgumentException.class, () -> t.sample("bad-name", PrometheusText.Type.GAUGE, "h", 1));
        assertThrows(IllegalArgumentException.class,
                () -> t.sample("ok", PrometheusText.Type.GAUGE, "h", 1, "__reserved", "x"));
        assertThrows(IllegalArgumentException.class, () -> t.sample("ok", PrometheusText.Type.GAUGE, "h", 1, "odd"));
        t.sample("ok", PrometheusText.Type.GAUGE, "h", 1);
        assertThrows(IllegalArgumentException.class, () -> t.sample("ok", PrometheusText.Type.COUNTER, "h", 1));
    }

    /** Whatever a disk id or state holds, every sample line parses and gives the label value back. */
    @Property(tries = 300)
    void labelValuesSurviveEscaping(@ForAll String value) {
        String text = new PrometheusText().sample("m", PrometheusText.Type.GAUGE, "help \\ \n text", 7, "v", value).text();
        List<String> lines = lines(text).filter(l -> !l.startsWith("#")).toList();
        assertEquals(1, lines.size(), text);
        Matcher m = SAMPLE.matcher(lines.get(0));
        assertTrue(m.matches(), lines.get(0));
        Matcher l = LABEL.matcher(m.group(3));
        assertTrue(l.find());
        assertEquals(value, unescape(l.group(2)));
        assertEquals("# HELP m help \\\\ \\n text", lines(text).findFirst().orElseThrow());
    }

    /**
     * The exposition's lines: split at '\n' only, the format's line end ({@code String.lines()} would also
     * split at a carriage return, which a label value may hold literally).
     */
    private static java.util.stream.Stream<String> lines(String text) {
        return java.util.Arrays.stream(text.split("\n"));
    }

    /** Samples by "name{label=value,...}" (values unescaped, labels in their order) to value. */
    private static Map<String, String> parse(String text) {
        return lines(text).filter(l -> !l.startsWith("#")).map(line -> {
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            String key = m.group(1);
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                StringBuilder labels = new StringBuilder();
                while (l.find()) {
                    labels.append(labels.length() == 0 ? "" : ",").append(l.group(1)).append('=').append(unescape(l.group(2)));
                }
                key += "{" + labels + "}";
            }
            return new String[] {key, m.group(4)};
        }).collect(Collectors.toMap(a -> a[0], a -> a[1], (a, b) -> {
            throw new AssertionError("duplicate sample " + Arrays.toString(new String[] {a, b}));
        }));
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                out.append(n == 'n' ? '\n' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
