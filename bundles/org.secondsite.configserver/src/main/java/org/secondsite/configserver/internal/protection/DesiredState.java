package org.secondsite.configserver.internal.protection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a component should be configured with, computed from the catalogue: the configurations of its
 * replicating machines (protecting or protected) in the form components apply through Configuration
 * Admin ({@code docs/PROTOCOL.md} §8):
 * <ul>
 * <li>agent: {@code org.secondsite.agent} (process server address), {@code org.secondsite.agent.schedule}
 * (checkpoint interval, scheduled application-consistent tags: applied live) and one
 * {@code org.secondsite.agent.disk} factory configuration per disk (source, driver, capture options,
 * resync request counter);</li>
 * <li>process server: {@code org.secondsite.processserver} (master target address, WAN compressor,
 * bandwidth schedule);</li>
 * <li>master target: {@code org.secondsite.mastertarget} (retention window: the longest of its
 * machines' policies; space: the sum of their caps).</li>
 * </ul>
 * A component with nothing to replicate gets no configuration entries (and an agent's managed disk
 * configurations are removed). Every query is bound; the document is deterministic for a catalogue
 * state, so its digest tells whether it changed.
 */
public final class DesiredState {
    public static final String AGENT_PID = "org.secondsite.agent";
    /** The agent's live schedule (checkpoints, application-consistent tags): applied without a restart. */
    public static final String SCHEDULE_PID = "org.secondsite.agent.schedule";
    public static final String DISK_FACTORY_PID = "org.secondsite.agent.disk";
    public static final String PROCESS_SERVER_PID = "org.secondsite.processserver";
    public static final String MASTER_TARGET_PID = "org.secondsite.mastertarget";
    /** The agent's bounds for its checkpoint interval, in milliseconds. */
    static final long MAX_CHECKPOINT_MILLIS = 3_600_000;
    /** The master target's space cap for a policy without one (its own default), and its minimum. */
    static final long DEFAULT_SPACE_MIB = 10_240;
    static final long MIN_SPACE_MIB = 64;
    static final String REPLICATING = "('" + Machine.PROTECTING + "', '" + Machine.PROTECTED + "')";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private DesiredState() {
    }

    /** The configurations (without revision) for a component of {@code role}. */
    static ObjectNode compute(Connection c, String componentId, String role) throws SQLException {
        ObjectNode doc = MAPPER.createObjectNode();
        ArrayNode configurations = doc.putArray("configurations");
        ArrayNode managed = doc.putArray("managedFactoryPids");
        switch (role) {
            case "agent" -> {
                managed.add(DISK_FACTORY_PID);
                agent(c, componentId, configurations);
            }
            case "process-server" -> processServer(c, componentId, configurations);
            case "master-target" -> masterTarget(c, componentId, configurations);
            default -> throw new IllegalStateException("unknown component role '" + role + "'");
        }
        return doc;
    }

    private static void agent(Connection c, String agentId, ArrayNode out) throws SQLException {
        String processServer = null;
        long checkpointMillis = Long.MAX_VALUE;
        long appTagMinutes = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT ps.address, p.checkpoint_interval_seconds, "
                + "p.app_consistency_schedule FROM machines m JOIN components ps ON ps.id = m.process_server_id "
                + "JOIN policies p ON p.id = m.policy_id WHERE m.agent_id = ? AND m.state IN " + REPLICATING
                + " ORDER BY m.created_at, m.id")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (processServer == null) {
                        processServer = rs.getString(1);
                    }
                    checkpointMillis = Math.min(checkpointMillis, rs.getInt(2) * 1000L);
                    long minutes = appTagMinutes(rs.getString(3));
                    if (minutes > 0) {
                        appTagMinutes = appTagMinutes == 0 ? minutes : Math.min(appTagMinutes, minutes);
                    }
                }
            }
        }
        if (processServer == null) {
            return;
        }
        ObjectNode agent = out.addObject();
        agent.put("pid", AGENT_PID);
        agent.putObject("properties").put("processServer", processServer);
        ObjectNode schedule = out.addObject();
        schedule.put("pid", SCHEDULE_PID);
        ObjectNode props = schedule.putObject("properties");
        props.put("checkpointMillis", Math.min(checkpointMillis, MAX_CHECKPOINT_MILLIS));
        props.put("appTagMinutes", appTagMinutes);
        try (PreparedStatement ps = c.prepareStatement("SELECT d.id, m.group_id, d.source, d.driver, d.options, "
                + "d.resync_request FROM disks d JOIN machines m ON m.id = d.machine_id WHERE m.agent_id = ? AND "
                + "m.state IN " + REPLICATING + " ORDER BY d.id")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String diskId = rs.getString(1);
                    ObjectNode disk = out.addObject();
                    disk.put("factoryPid", DISK_FACTORY_PID);
                    disk.put("name", configurationName(diskId));
                    ObjectNode p = disk.putObject("properties");
                    p.put("diskId", diskId);
                    p.put("group", rs.getString(2));
                    p.put("source", rs.getString(3));
                    p.put("driver", rs.getString(4));
                    for (Map.Entry<String, String> o : Options.parse(rs.getString(5)).entrySet()) {
                        p.put("capture." + o.getKey(), o.getValue());
                    }
                    p.put("resyncRequest", rs.getLong(6));
                }
            }
        }
    }

    private static void processServer(Connection c, String psId, ArrayNode out) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT mt.address, p.compressor, p.bandwidth_schedule "
                + "FROM machines m JOIN components mt ON mt.id = m.master_target_id JOIN policies p ON p.id = m.policy_id "
                + "WHERE m.process_server_id = ? AND m.state IN " + REPLICATING + " ORDER BY m.created_at, m.id "
                + "FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, psId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    ObjectNode e = out.addObject();
                    e.put("pid", PROCESS_SERVER_PID);
                    ObjectNode p = e.putObject("properties");
                    p.put("masterTarget", rs.getString(1));
                    p.put("wanCompressor", rs.getString(2));
                    p.put("bandwidthSchedule", rs.getString(3));
                }
            }
        }
    }

    private static void masterTarget(Connection c, String mtId, ArrayNode out) throws SQLException {
        long window = 0;
        long spaceMiB = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT p.retention_window_seconds, p.retention_space_bytes "
                + "FROM machines m JOIN policies p ON p.id = m.policy_id WHERE m.master_target_id = ? AND m.state IN "
                + REPLICATING)) {
            ps.setString(1, mtId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    window = Math.max(window, rs.getLong(1));
                    long bytes = rs.getLong(2);
                    spaceMiB += bytes == 0 ? DEFAULT_SPACE_MIB : Math.max(1, (bytes + (1 << 20) - 1) >> 20);
                }
            }
        }
        if (window == 0) {
            return;
        }
        ObjectNode e = out.addObject();
        e.put("pid", MASTER_TARGET_PID);
        ObjectNode p = e.putObject("properties");
        p.put("retentionWindowSeconds", window);
        p.put("retentionSpaceMiB", Math.max(MIN_SPACE_MIB, spaceMiB));
    }

    /** Minutes between scheduled application-consistent tags of an ISO-8601 schedule; 0 for {@code off}. */
    static long appTagMinutes(String schedule) {
        if (schedule == null || "off".equals(schedule)) {
            return 0;
        }
        Duration d = Duration.parse(schedule);
        return Math.max(1, (d.toSeconds() + 59) / 60);
    }

    /** The factory configuration name of a disk: its id with characters other than letters, digits, {@code . _ -} as {@code -}. */
    static String configurationName(String diskId) {
        return diskId.replaceAll("[^A-Za-z0-9._-]", "-");
    }

    static String digest(ObjectNode document) {
        try {
            byte[] json = MAPPER.writeValueAsString(document).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot digest a desired state", e);
        }
    }

    /** Capture options as stored in {@code disks.options}: a JSON object of strings. */
    static final class Options {
        private Options() {
        }

        static String format(Map<String, String> options) {
            if (options.isEmpty()) {
                return null;
            }
            ObjectNode o = MAPPER.createObjectNode();
            new TreeMap<>(options).forEach(o::put);
            return o.toString();
        }

        static Map<String, String> parse(String json) {
            Map<String, String> out = new TreeMap<>();
            if (json == null || json.isEmpty()) {
                return out;
            }
            try {
                MAPPER.readTree(json).fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("the catalogue holds capture options that are not JSON", e);
            }
            return out;
        }
    }

    /** Ids of every component whose desired state depends on a machine. */
    static List<String> componentsOf(Machine m) {
        List<String> ids = new ArrayList<>(3);
        for (String id : new String[] {m.masterTargetId(), m.processServerId(), m.agentId()}) {
            if (id != null && !ids.contains(id)) {
                ids.add(id);
            }
        }
        return ids;
    }
}
