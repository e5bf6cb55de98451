package org.secondsite.configserver.internal.protection;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.Sql;

/**
 * Machines, their protection and the jobs that change it. A job is submitted in one transaction with
 * its catalogue change and the new desired-state revisions of the components concerned, so a crash
 * either loses the whole request or keeps all of it; {@link #advance()} (a scheduler) then follows the
 * components' reports step by step, from the catalogue alone, so jobs resume after a restart.
 *
 * <p>One job at a time per machine: a second one is refused (409) while one runs.
 */
public final class Protection {
    /** How the catalogue spells a component's role. */
    static final String AGENT = "agent";
    static final String PROCESS_SERVER = "process-server";
    static final String MASTER_TARGET = "master-target";
    /** The disk state an agent reports when a disk replicates changes as they happen (no resync running). */
    public static final String REPLICATING = "replicating";

    private static final String MACHINE_COLUMNS = "id, name, kind, agent_id, process_server_id, master_target_id, "
            + "group_id, policy_id, state, created_at";
    private static final String JOB_COLUMNS = "id, kind, machine_id, state, progress, error, created_by, created_at, "
            + "updated_at";

    /** A component's desired state and its revision. */
    public record Desired(String componentId, long revision, ObjectNode document) {
    }

    private final Catalogue catalogue;
    private final Clock clock;
    private final Duration applyTimeout;

    /**
     * @param applyTimeout how long a step waits for a component to apply its new desired state
     */
    public Protection(Catalogue catalogue, Clock clock, Duration applyTimeout) {
        this.catalogue = catalogue;
        this.clock = clock;
        this.applyTimeout = applyTimeout;
    }

    // ---- machines

    public Page<Machine> machines(int offset, int limit) throws SQLException {
        Page.check(offset, limit);
        try (Connection c = catalogue.connection()) {
            long total;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM machines")) {
                rs.next();
                total = rs.getLong(1);
            }
            List<Machine> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + MACHINE_COLUMNS
                    + " FROM machines ORDER BY id OFFSET ? ROWS FETCH NEXT ? ROWS ONLY")) {
                ps.setInt(1, offset);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(readMachine(c, rs));
                    }
                }
            }
            return new Page<>(items, total, offset, limit);
        }
    }

    public Machine machine(String id) throws SQLException {
        try (Connection c = catalogue.connection()) {
            return findMachine(c, id, false).orElseThrow(() -> ConfigServerException.notFound("no machine '" + id + "'"));
        }
    }

    // ---- jobs that change protection

    /**
     * Protects a machine (new, unprotected, or left protecting by a failed protect job): records it
     * and its disks, and raises the desired state of its master target, process server and agent.
     */
    public Job protect(ProtectRequest r, String actor) throws SQLException {
        r.validate();
        return submit(r.machineId(), actor, (c, existing) -> {
            if (existing != null && !Machine.UNPROTECTED.equals(existing.state())
                    && !Machine.PROTECTING.equals(existing.state())) {
                throw ConfigServerException.conflict("machine '" + r.machineId() + "' is " + existing.state()
                        + "; unprotect it first, or change its policy");
            }
            Component agent = component(c, r.agentId(), AGENT, "agentId");
            Component ps = component(c, r.processServerId(), PROCESS_SERVER, "processServerId");
            Component mt = component(c, r.masterTargetId(), MASTER_TARGET, "masterTargetId");
            requireAddress(ps, "processServerId");
            requireAddress(mt, "masterTargetId");
            Policy policy = policy(c, r.policyId());
            checkAgentRoute(c, r.machineId(), agent.id(), ps.id());
            checkProcessServerRoute(c, r.machineId(), ps.id(), mt.id(), policy);
            for (int i = 0; i < r.disks().size(); i++) {
                String owner = diskOwner(c, r.disks().get(i).id());
                if (owner != null && !owner.equals(r.machineId())) {
                    throw ConfigServerException.conflict("disk '" + r.disks().get(i).id() + "' (disks[" + i
                            + "]) belongs to machine '" + owner + "'");
                }
            }
            Instant now = clock.instant();
            String group = r.group() == null ? r.machineId() : r.group();
            try (PreparedStatement ps2 = c.prepareStatement("INSERT INTO consistency_groups (id, policy_id, created_at) "
                    + "SELECT ?, ?, ? FROM sysibm.sysdummy1 WHERE NOT EXISTS (SELECT 1 FROM consistency_groups WHERE id = ?)")) {
                ps2.setString(1, group);
                ps2.setString(2, policy.id());
                Sql.setInstant(ps2, 3, now);
                ps2.setString(4, group);
                ps2.executeUpdate();
            }
            String sql = existing == null
                    ? "INSERT INTO machines (name, kind, agent_id, process_server_id, master_target_id, group_id, "
                            + "policy_id, state, created_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    : "UPDATE machines SET name = ?, kind = ?, agent_id = ?, process_server_id = ?, master_target_id = ?, "
                            + "group_id = ?, policy_id = ?, state = ?, created_at = ? WHERE id = ?";
            try (PreparedStatement ps2 = c.prepareStatement(sql)) {
                ps2.setString(1, r.name() == null ? r.machineId() : r.name());
                ps2.setString(2, r.kind() == null ? "physical-linux" : r.kind());
                ps2.setString(3, agent.id());
                ps2.setString(4, ps.id());
                ps2.setString(5, mt.id());
                ps2.setString(6, group);
                ps2.setString(7, policy.id());
                ps2.setString(8, Machine.PROTECTING);
                Sql.setInstant(ps2, 9, existing == null ? now : existing.createdAt());
                ps2.setString(10, r.machineId());
                ps2.executeUpdate();
            }
            try (PreparedStatement del = c.prepareStatement("DELETE FROM disks WHERE machine_id = ?")) {
                del.setString(1, r.machineId());
                del.executeUpdate();
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO disks (id, machine_id, name, size_bytes, state, "
                    + "source, driver, options, resync_request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)")) {
                for (Machine.Disk d : r.disks()) {
                    ins.setString(1, d.id());
                    ins.setString(2, r.machineId());
                    ins.setString(3, d.id().substring(d.id().indexOf(':') + 1));
                    ins.setLong(4, d.sizeBytes());
                    ins.setString(5, Machine.PROTECTING);
                    ins.setString(6, d.source());
                    ins.setString(7, d.driver());
                    ins.setString(8, DesiredState.Options.format(d.options()));
                    ins.addBatch();
                }
                ins.executeBatch();
            }
            List<StepPlan> steps = new ArrayList<>();
            steps.add(apply(c, mt.id(), "configure master target '" + mt.id() + "'"));
            steps.add(apply(c, ps.id(), "configure process server '" + ps.id() + "'"));
            steps.add(apply(c, agent.id(), "start capture on agent '" + agent.id() + "'"));
            steps.add(new StepPlan("initial replication of " + r.disks().size() + " disk(s)", Job.Step.REPLICATE,
                    null, null));
            steps.add(new StepPlan("record the machine as protected", Job.Step.FINISH, null, null));
            return new JobPlan(Job.PROTECT, steps);
        });
    }

    /** Stops replicating a machine: its agent stops capturing; the replicas stay on the master target. */
    public Job unprotect(String machineId, String actor) throws SQLException {
        ProtectRequest.id("machineId", machineId);
        return submit(machineId, actor, (c, m) -> {
            if (m == null) {
                throw ConfigServerException.notFound("no machine '" + machineId + "'");
            }
            if (!m.replicating()) {
                throw ConfigServerException.conflict("machine '" + machineId + "' is " + m.state());
            }
            setState(c, machineId, Machine.UNPROTECTING);
            List<StepPlan> steps = new ArrayList<>();
            steps.add(apply(c, m.agentId(), "stop capture on agent '" + m.agentId() + "'"));
            steps.add(apply(c, m.processServerId(), "release process server '" + m.processServerId() + "'"));
            steps.add(apply(c, m.masterTargetId(), "release master target '" + m.masterTargetId() + "'"));
            steps.add(new StepPlan("record the machine as unprotected", Job.Step.FINISH, null, null));
            return new JobPlan(Job.UNPROTECT, steps);
        });
    }

    /**
     * Resynchronises disks of a protected machine (all when {@code diskIds} is empty): the agent
     * compares the source with the replica and sends what differs.
     */
    public Job resync(String machineId, List<String> diskIds, String actor) throws SQLException {
        ProtectRequest.id("machineId", machineId);
        return submit(machineId, actor, (c, m) -> {
            if (m == null) {
                throw ConfigServerException.notFound("no machine '" + machineId + "'");
            }
            if (!Machine.PROTECTED.equals(m.state())) {
                throw ConfigServerException.conflict("machine '" + machineId + "' is " + m.state()
                        + "; only a protected machine is resynchronised");
            }
            List<String> ids = diskIds == null || diskIds.isEmpty()
                    ? m.disks().stream().map(Machine.Disk::id).toList() : diskIds;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                if (m.disks().stream().noneMatch(d -> d.id().equals(id))) {
                    throw ConfigServerException.invalid("disks[" + i + "]", "disk '" + id + "' is not a disk of machine '"
                            + machineId + "'");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE disks SET resync_request = resync_request + 1 WHERE id = ?")) {
                    ps.setString(1, id);
                    ps.executeUpdate();
                }
            }
            List<StepPlan> steps = new ArrayList<>();
            steps.add(apply(c, m.agentId(), "request the resync on agent '" + m.agentId() + "'"));
            steps.add(new StepPlan("resynchronise " + ids.size() + " disk(s)", Job.Step.REPLICATE, null, null));
            return new JobPlan(Job.RESYNC, steps);
        });
    }

    /** Gives a protected machine another policy and pushes it to its components. */
    public Job changePolicy(String machineId, String policyId, String actor) throws SQLException {
        ProtectRequest.id("machineId", machineId);
        ProtectRequest.id("policyId", policyId);
        return submit(machineId, actor, (c, m) -> {
            if (m == null) {
                throw ConfigServerException.notFound("no machine '" + machineId + "'");
            }
            if (!m.replicating()) {
                throw ConfigServerException.conflict("machine '" + machineId + "' is " + m.state());
            }
            Policy policy = policy(c, policyId);
            checkProcessServerRoute(c, machineId, m.processServerId(), m.masterTargetId(), policy);
            try (PreparedStatement ps = c.prepareStatement("UPDATE machines SET policy_id = ? WHERE id = ?")) {
                ps.setString(1, policyId);
                ps.setString(2, machineId);
                ps.executeUpdate();
            }
            List<StepPlan> steps = new ArrayList<>();
            steps.add(apply(c, m.masterTargetId(), "apply retention on master target '" + m.masterTargetId() + "'"));
            steps.add(apply(c, m.processServerId(), "apply compression and bandwidth on process server '"
                    + m.processServerId() + "'"));
            steps.add(apply(c, m.agentId(), "apply checkpoints on agent '" + m.agentId() + "'"));
            return new JobPlan(Job.CHANGE_POLICY, steps);
        });
    }

    /**
     * A policy was changed: raises the desired-state revision of every component replicating a machine
     * under it (applied live at their next heartbeat).
     *
     * @return the components whose desired state changed
     */
    public List<String> policyChanged(String policyId) throws SQLException {
        return inTransaction(c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, process_server_id, master_target_id FROM "
                    + "machines WHERE policy_id = ? AND state IN " + DesiredState.REPLICATING)) {
                ps.setString(1, policyId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        for (int i = 1; i <= 3; i++) {
                            if (!ids.contains(rs.getString(i))) {
                                ids.add(rs.getString(i));
                            }
                        }
                    }
                }
            }
            List<String> changed = new ArrayList<>();
            for (String id : ids) {
                long before = revision(c, id);
                if (refresh(c, id) != before) {
                    changed.add(id);
                }
            }
            return changed;
        });
    }

    // ---- desired state

    /** A component's desired state now (its revision grows when it changes). */
    public Desired desired(String componentId) throws SQLException {
        return inTransaction(c -> {
            long revision = refresh(c, componentId);
            return new Desired(componentId, revision, DesiredState.compute(c, componentId, role(c, componentId)));
        });
    }

    /** A component's desired-state revision, without computing the document. */
    public long desiredRevision(String componentId) throws SQLException {
        try (Connection c = catalogue.connection()) {
            return revision(c, componentId);
        }
    }

    /**
     * What a component reported applying: the revision it has applied, or why it could not apply the
     * latest. {@code appliedAt} is kept from the first report of a revision.
     */
    public void reported(String componentId, long appliedRevision, String applyError) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("UPDATE components SET applied_at = CASE WHEN applied_revision "
                     + "< ? THEN ? ELSE applied_at END, applied_revision = CASE WHEN applied_revision < ? THEN ? ELSE "
                     + "applied_revision END, apply_error = ? WHERE id = ?")) {
            ps.setLong(1, appliedRevision);
            Sql.setInstant(ps, 2, clock.instant());
            ps.setLong(3, appliedRevision);
            ps.setLong(4, appliedRevision);
            ps.setString(5, applyError);
            ps.setString(6, componentId);
            ps.executeUpdate();
        }
    }

    // ---- recovery points mirrored from master targets

    /**
     * Mirrors what a master target reports: its points not seen yet are recorded for each disk of
     * their group's machines (points of groups the catalogue does not know are skipped), and its
     * points older than {@code oldest} are dropped (retention pruned them); {@code oldest} null with
     * no items means it lists none.
     *
     * @return how many points were recorded
     */
    public int mirrorPoints(String masterTargetId, Instant oldest, List<MirroredPoint> items) throws SQLException {
        return inTransaction(c -> {
            if (oldest == null && items.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM recovery_points WHERE master_target_id = ?")) {
                    ps.setString(1, masterTargetId);
                    ps.executeUpdate();
                }
                return 0;
            }
            if (oldest != null) {
                try (PreparedStatement ps = c.prepareStatement(
                        "DELETE FROM recovery_points WHERE master_target_id = ? AND point_time < ?")) {
                    ps.setString(1, masterTargetId);
                    Sql.setInstant(ps, 2, oldest);
                    ps.executeUpdate();
                }
            }
            int recorded = 0;
            Instant now = clock.instant();
            for (MirroredPoint p : items) {
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM recovery_points WHERE master_target_id = ? "
                        + "AND point_id = ? FETCH FIRST 1 ROWS ONLY")) {
                    ps.setString(1, masterTargetId);
                    ps.setString(2, p.id());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            continue;
                        }
                    }
                }
                List<String> disks = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT d.id FROM disks d JOIN machines m ON m.id = "
                        + "d.machine_id WHERE m.group_id = ? AND m.master_target_id = ?")) {
                    ps.setString(1, p.group());
                    ps.setString(2, masterTargetId);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            disks.add(rs.getString(1));
                        }
                    }
                }
                if (disks.isEmpty()) {
                    continue;
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO recovery_points (disk_id, group_id, "
                        + "master_target_id, kind, tag, point_time, sequence_number, recorded_at, point_id) "
                        + "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)")) {
                    for (String disk : disks) {
                        ps.setString(1, disk);
                        ps.setString(2, p.group());
                        ps.setString(3, masterTargetId);
                        ps.setString(4, p.kind());
                        ps.setString(5, p.tag());
                        Sql.setInstant(ps, 6, p.time());
                        Sql.setInstant(ps, 7, now);
                        ps.setString(8, p.id());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                recorded++;
            }
            return recorded;
        });
    }

    /** A machine's mirrored recovery points, newest first. */
    public Page<MirroredPoint> points(String machineId, int offset, int limit) throws SQLException {
        Page.check(offset, limit);
        machine(machineId);
        try (Connection c = catalogue.connection()) {
            String from = " FROM recovery_points r JOIN disks d ON d.id = r.disk_id WHERE d.machine_id = ?";
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(DISTINCT r.point_id)" + from)) {
                ps.setString(1, machineId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            Map<String, MirroredPoint> byId = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT r.point_id, r.group_id, r.point_time, r.kind, r.tag, "
                    + "r.disk_id" + from + " ORDER BY r.point_time DESC, r.point_id, r.disk_id")) {
                ps.setString(1, machineId);
                try (ResultSet rs = ps.executeQuery()) {
                    int index = -1;
                    while (rs.next()) {
                        String id = rs.getString(1);
                        MirroredPoint p = byId.get(id);
                        if (p == null) {
                            index++;
                            if (index < offset) {
                                byId.put(id, new MirroredPoint(id, null, null, null, null, null)); // skipped
                                continue;
                            }
                            if (index >= offset + limit) {
                                break;
                            }
                            p = new MirroredPoint(id, rs.getString(2), Sql.instant(rs, "point_time"), rs.getString(4),
                                    rs.getString(5), List.of());
                        }
                        if (p.group() == null) {
                            continue;
                        }
                        List<String> disks = new ArrayList<>(p.disks());
                        disks.add(rs.getString(6));
                        byId.put(id, new MirroredPoint(p.id(), p.group(), p.time(), p.kind(), p.tag(), disks));
                    }
                }
            }
            List<MirroredPoint> items = byId.values().stream().filter(p -> p.group() != null).toList();
            return new Page<>(items, total, offset, limit);
        }
    }

    // ---- jobs

    /** Jobs newest first, of one machine and/or in one state when those are not null. */
    public Page<Job> jobs(String machineId, String state, int offset, int limit) throws SQLException {
        Page.check(offset, limit);
        if (state != null && !Job.STATES.contains(state)) {
            throw ConfigServerException.invalid("state", "state '" + state + "' is invalid: expected one of "
                    + String.join(", ", Job.STATES));
        }
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        List<String> params = new ArrayList<>();
        if (machineId != null) {
            where.append(" AND machine_id = ?");
            params.add(machineId);
        }
        if (state != null) {
            where.append(" AND state = ?");
            params.add(state);
        }
        try (Connection c = catalogue.connection()) {
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM jobs" + where)) {
                for (int i = 0; i < params.size(); i++) {
                    ps.setString(i + 1, params.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            List<Job> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs" + where
                    + " ORDER BY id DESC OFFSET ? ROWS FETCH NEXT ? ROWS ONLY")) {
                for (int i = 0; i < params.size(); i++) {
                    ps.setString(i + 1, params.get(i));
                }
                ps.setInt(params.size() + 1, offset);
                ps.setInt(params.size() + 2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(readJob(c, rs));
                    }
                }
            }
            return new Page<>(items, total, offset, limit);
        }
    }

    public Job job(long id) throws SQLException {
        try (Connection c = catalogue.connection()) {
            return findJob(c, id).orElseThrow(() -> ConfigServerException.notFound("no job " + id));
        }
    }

    /**
     * Moves every running job as far as the components' reports allow; one transaction per job.
     *
     * @return the jobs that ended (succeeded or failed) in this pass
     */
    public List<Job> advance() throws SQLException {
        List<Long> running = new ArrayList<>();
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT id FROM jobs WHERE state = ? ORDER BY id")) {
            ps.setString(1, Job.RUNNING);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    running.add(rs.getLong(1));
                }
            }
        }
        List<Job> ended = new ArrayList<>();
        for (long id : running) {
            Job after = inTransaction(c -> advance(c, id));
            if (after != null && !Job.RUNNING.equals(after.state())) {
                ended.add(after);
            }
        }
        return ended;
    }

    private Job advance(Connection c, long jobId) throws SQLException {
        Job job = findJob(c, jobId).orElse(null);
        if (job == null || !Job.RUNNING.equals(job.state())) {
            return job;
        }
        Instant now = clock.instant();
        Machine machine = findMachine(c, job.machineId(), true).orElseThrow(() ->
                new IllegalStateException("job " + jobId + " names machine '" + job.machineId() + "' that is gone"));
        for (Job.Step step : job.steps()) {
            if (Job.SUCCEEDED.equals(step.state())) {
                continue;
            }
            Instant started = step.startedAt() == null ? now : step.startedAt();
            if (step.startedAt() == null) {
                updateStep(c, jobId, step.ordinal(), Job.RUNNING, 0, null, now, null);
            }
            Outcome o = switch (step.kind()) {
                case Job.Step.APPLY -> applied(c, step, started, now);
                case Job.Step.REPLICATE -> replicated(c, machine, started);
                case Job.Step.FINISH -> finish(c, job, machine);
                default -> Outcome.failed("unknown step kind '" + step.kind() + "'");
            };
            if (o.error() != null) {
                updateStep(c, jobId, step.ordinal(), Job.FAILED, step.progress(), o.error(), started, now);
                updateJob(c, jobId, Job.FAILED, job.progress(), "step " + step.ordinal() + " (" + step.name() + "): "
                        + o.error(), now);
                return findJob(c, jobId).orElseThrow();
            }
            if (!o.done()) {
                updateStep(c, jobId, step.ordinal(), Job.RUNNING, o.progress(), null, started, null);
                updateJob(c, jobId, Job.RUNNING, progress(job, step.ordinal(), o.progress()), null, now);
                return findJob(c, jobId).orElseThrow();
            }
            updateStep(c, jobId, step.ordinal(), Job.SUCCEEDED, 100, null, started, now);
        }
        updateJob(c, jobId, Job.SUCCEEDED, 100, null, now);
        return findJob(c, jobId).orElseThrow();
    }

    private record Outcome(boolean done, int progress, String error) {
        static Outcome failed(String error) {
            return new Outcome(false, 0, error);
        }
    }

    private Outcome applied(Connection c, Job.Step step, Instant started, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT state, applied_revision, apply_error, last_heartbeat "
                + "FROM components WHERE id = ?")) {
            ps.setString(1, step.waitComponent());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !Component.REGISTERED.equals(rs.getString(1))) {
                    return Outcome.failed("component '" + step.waitComponent() + "' was removed");
                }
                if (rs.getLong(2) >= step.waitRevision()) {
                    return new Outcome(true, 100, null);
                }
                String error = rs.getString(3);
                if (error != null) {
                    return Outcome.failed("component '" + step.waitComponent() + "' cannot apply its configuration: "
                            + error);
                }
                if (Duration.between(started, now).compareTo(applyTimeout) > 0) {
                    Instant last = Sql.instant(rs, "last_heartbeat");
                    return Outcome.failed("component '" + step.waitComponent() + "' did not apply revision "
                            + step.waitRevision() + " within " + applyTimeout.toMinutes() + " min (last heartbeat: "
                            + (last == null ? "never" : last) + ")");
                }
                return new Outcome(false, 0, null);
            }
        }
    }

    /**
     * Done when the agent's heartbeats since {@code started} show every disk replicating with no
     * resync owed; progress counts a resyncing disk by its resync percentage.
     */
    private Outcome replicated(Connection c, Machine m, Instant started) throws SQLException {
        Map<String, Integer> percent = new LinkedHashMap<>();
        m.disks().forEach(d -> percent.put(d.id(), 0));
        try (PreparedStatement ps = c.prepareStatement("SELECT d.disk_id, d.state, d.resync_required, d.resync_percent "
                + "FROM disk_health d JOIN component_health h ON h.component_id = d.component_id "
                + "WHERE d.component_id = ? AND h.received_at >= ?")) {
            ps.setString(1, m.agentId());
            Sql.setInstant(ps, 2, started);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (percent.containsKey(rs.getString(1))) {
                        boolean done = REPLICATING.equals(rs.getString(2)) && !rs.getBoolean(3);
                        int p = rs.getInt(4);
                        percent.put(rs.getString(1), done ? 100 : rs.wasNull() ? 0 : Math.min(99, p));
                    }
                }
            }
        }
        boolean all = percent.values().stream().allMatch(p -> p == 100);
        int mean = (int) (percent.values().stream().mapToLong(Integer::longValue).sum() / Math.max(1, percent.size()));
        return new Outcome(all, mean, null);
    }

    private Outcome finish(Connection c, Job job, Machine m) throws SQLException {
        switch (job.kind()) {
            case Job.PROTECT -> setState(c, m.id(), Machine.PROTECTED);
            case Job.UNPROTECT -> setState(c, m.id(), Machine.UNPROTECTED);
            default -> {
            }
        }
        return new Outcome(true, 100, null);
    }

    private static int progress(Job job, int ordinal, int stepProgress) {
        int n = job.steps().size();
        return (int) Math.min(99, ((ordinal - 1) * 100L + stepProgress) / n);
    }

    // ---- submission

    /** The catalogue change of a job, made under the machine's lock; returns the job's kind and steps. */
    @FunctionalInterface
    private interface Change {
        JobPlan apply(Connection c, Machine existing) throws SQLException;
    }

    private record StepPlan(String name, String kind, String component, Long revision) {
    }

    private record JobPlan(String kind, List<StepPlan> steps) {
    }

    private Job submit(String machineId, String actor, Change change) throws SQLException {
        try {
            return inTransaction(c -> {
                Machine existing = findMachine(c, machineId, true).orElse(null);
                if (existing != null) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT id, kind FROM jobs WHERE machine_id = ? AND "
                            + "state IN ('queued', 'running')")) {
                        ps.setString(1, machineId);
                        try (ResultSet rs = ps.executeQuery()) {
                            if (rs.next()) {
                                throw ConfigServerException.conflict("machine '" + machineId + "' has job "
                                        + rs.getLong(1) + " (" + rs.getString(2) + ") running; wait for it to end");
                            }
                        }
                    }
                }
                JobPlan plan = change.apply(c, existing);
                Instant now = clock.instant();
                long id;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO jobs (kind, machine_id, state, progress, "
                        + "created_by, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
                    ps.setString(1, plan.kind());
                    ps.setString(2, machineId);
                    ps.setString(3, Job.RUNNING);
                    ps.setString(4, actor);
                    Sql.setInstant(ps, 5, now);
                    Sql.setInstant(ps, 6, now);
                    ps.executeUpdate();
                    try (ResultSet keys = ps.getGeneratedKeys()) {
                        keys.next();
                        id = keys.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_steps (job_id, ordinal, name, state, "
                        + "progress, kind, wait_component, wait_revision) VALUES (?, ?, ?, ?, 0, ?, ?, ?)")) {
                    for (int i = 0; i < plan.steps().size(); i++) {
                        StepPlan s = plan.steps().get(i);
                        ps.setLong(1, id);
                        ps.setInt(2, i + 1);
                        ps.setString(3, s.name());
                        ps.setString(4, Job.Step.PENDING);
                        ps.setString(5, s.kind());
                        ps.setString(6, s.component());
                        ps.setObject(7, s.revision());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                return findJob(c, id).orElseThrow();
            });
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) { // two first protections of one machine at once
                throw ConfigServerException.conflict("machine '" + machineId + "' was changed concurrently; try again");
            }
            throw e;
        }
    }

    /** An apply step for a component, after raising its desired-state revision to match the change made. */
    private StepPlan apply(Connection c, String componentId, String name) throws SQLException {
        return new StepPlan(name, Job.Step.APPLY, componentId, refresh(c, componentId));
    }

    /** Recomputes a component's desired state; raises its revision when the document changed. */
    private long refresh(Connection c, String componentId) throws SQLException {
        long revision;
        String digest;
        String role;
        try (PreparedStatement ps = c.prepareStatement("SELECT desired_revision, desired_digest, role FROM components "
                + "WHERE id = ? FOR UPDATE")) {
            ps.setString(1, componentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ConfigServerException.notFound("no component '" + componentId + "'");
                }
                revision = rs.getLong(1);
                digest = rs.getString(2);
                role = rs.getString(3);
            }
        }
        String now = DesiredState.digest(DesiredState.compute(c, componentId, role));
        if (now.equals(digest) && revision > 0) {
            return revision;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE components SET desired_revision = ?, desired_digest = ?, "
                + "apply_error = NULL WHERE id = ?")) {
            ps.setLong(1, revision + 1);
            ps.setString(2, now);
            ps.setString(3, componentId);
            ps.executeUpdate();
        }
        return revision + 1;
    }

    private static long revision(Connection c, String componentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT desired_revision FROM components WHERE id = ?")) {
            ps.setString(1, componentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ConfigServerException.notFound("no component '" + componentId + "'");
                }
                return rs.getLong(1);
            }
        }
    }

    private static String role(Connection c, String componentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT role FROM components WHERE id = ?")) {
            ps.setString(1, componentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ConfigServerException.notFound("no component '" + componentId + "'");
                }
                return rs.getString(1);
            }
        }
    }

    private static Component component(Connection c, String id, String role, String field) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT role, state, address FROM components WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !Component.REGISTERED.equals(rs.getString(2))) {
                    throw ConfigServerException.notFound("no registered component '" + id + "' (" + field + ")");
                }
                if (!role.equals(rs.getString(1))) {
                    throw ConfigServerException.invalid(field, field + " '" + id + "' is a " + rs.getString(1)
                            + ", not a " + role);
                }
                return new Component(id, role, null, rs.getString(3), null, null, Component.REGISTERED, null, null,
                        null, null);
            }
        }
    }

    private static void requireAddress(Component c, String field) {
        String a = c.address();
        int colon = a == null ? -1 : a.lastIndexOf(':');
        if (colon <= 0 || colon == a.length() - 1) {
            throw ConfigServerException.invalid(field, "component '" + c.id() + "' registered without a data address "
                    + "(host:port; it has '" + a + "'): set 'address' in its org.secondsite.link configuration and "
                    + "register it again");
        }
    }

    private record Policy(String id, String compressor, String bandwidthSchedule) {
    }

    private static Policy policy(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT compressor, bandwidth_schedule FROM policies WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ConfigServerException.notFound("no policy '" + id + "' (policyId)");
                }
                return new Policy(id, rs.getString(1), rs.getString(2));
            }
        }
    }

    /** An agent sends all its machines to one process server (its configuration has one address). */
    private static void checkAgentRoute(Connection c, String machineId, String agentId, String psId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, process_server_id FROM machines WHERE agent_id = ? "
                + "AND id <> ? AND state IN " + DesiredState.REPLICATING + " AND process_server_id <> ?")) {
            ps.setString(1, agentId);
            ps.setString(2, machineId);
            ps.setString(3, psId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    throw ConfigServerException.conflict("agent '" + agentId + "' already sends machine '"
                            + rs.getString(1) + "' to process server '" + rs.getString(2) + "'; an agent sends to one "
                            + "process server");
                }
            }
        }
    }

    /**
     * A process server forwards to one master target, with one compressor and bandwidth schedule (its
     * configuration has one of each): its machines must agree.
     */
    private static void checkProcessServerRoute(Connection c, String machineId, String psId, String mtId, Policy policy)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT m.id, m.master_target_id, p.compressor, "
                + "p.bandwidth_schedule, p.id FROM machines m JOIN policies p ON p.id = m.policy_id WHERE "
                + "m.process_server_id = ? AND m.id <> ? AND m.state IN " + DesiredState.REPLICATING)) {
            ps.setString(1, psId);
            ps.setString(2, machineId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!mtId.equals(rs.getString(2))) {
                        throw ConfigServerException.conflict("process server '" + psId + "' forwards machine '"
                                + rs.getString(1) + "' to master target '" + rs.getString(2) + "'; a process server "
                                + "forwards to one master target");
                    }
                    if (!policy.compressor().equals(rs.getString(3))
                            || !policy.bandwidthSchedule().equals(rs.getString(4))) {
                        throw ConfigServerException.conflict("process server '" + psId + "' compresses and limits "
                                + "machine '" + rs.getString(1) + "' by policy '" + rs.getString(5) + "' (compressor "
                                + rs.getString(3) + ", bandwidth '" + rs.getString(4) + "'); policy '" + policy.id()
                                + "' differs: use a policy with the same compressor and bandwidth, or another "
                                + "process server");
                    }
                }
            }
        }
    }

    private static String diskOwner(Connection c, String diskId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT machine_id FROM disks WHERE id = ?")) {
            ps.setString(1, diskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void setState(Connection c, String machineId, String state) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE machines SET state = ? WHERE id = ?")) {
            ps.setString(1, state);
            ps.setString(2, machineId);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE disks SET state = ? WHERE machine_id = ?")) {
            ps.setString(1, state);
            ps.setString(2, machineId);
            ps.executeUpdate();
        }
    }

    // ---- rows

    private static Optional<Machine> findMachine(Connection c, String id, boolean lock) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + MACHINE_COLUMNS + " FROM machines WHERE id = ?"
                + (lock ? " FOR UPDATE" : ""))) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(readMachine(c, rs)) : Optional.empty();
            }
        }
    }

    private static Machine readMachine(Connection c, ResultSet rs) throws SQLException {
        String id = rs.getString("id");
        List<Machine.Disk> disks = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, source, driver, options, size_bytes, resync_request "
                + "FROM disks WHERE machine_id = ? ORDER BY id")) {
            ps.setString(1, id);
            try (ResultSet d = ps.executeQuery()) {
                while (d.next()) {
                    disks.add(new Machine.Disk(d.getString(1), d.getString(2), d.getString(3),
                            DesiredState.Options.parse(d.getString(4)), d.getLong(5), d.getLong(6)));
                }
            }
        }
        return new Machine(id, rs.getString("name"), rs.getString("kind"), rs.getString("agent_id"),
                rs.getString("process_server_id"), rs.getString("master_target_id"), rs.getString("group_id"),
                rs.getString("policy_id"), rs.getString("state"), Sql.instant(rs, "created_at"), disks);
    }

    private static Optional<Job> findJob(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(readJob(c, rs)) : Optional.empty();
            }
        }
    }

    private static Job readJob(Connection c, ResultSet rs) throws SQLException {
        long id = rs.getLong("id");
        List<Job.Step> steps = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT ordinal, name, kind, state, progress, error, started_at, "
                + "ended_at, wait_component, wait_revision FROM job_steps WHERE job_id = ? ORDER BY ordinal")) {
            ps.setLong(1, id);
            try (ResultSet s = ps.executeQuery()) {
                while (s.next()) {
                    long rev = s.getLong(10);
                    Long waitRevision = s.wasNull() ? null : rev;
                    steps.add(new Job.Step(s.getInt(1), s.getString(2), s.getString(3), s.getString(4), s.getInt(5),
                            s.getString(6), Sql.instant(s, "started_at"), Sql.instant(s, "ended_at"), s.getString(9),
                            waitRevision));
                }
            }
        }
        return new Job(id, rs.getString("kind"), rs.getString("machine_id"), rs.getString("state"),
                rs.getInt("progress"), rs.getString("error"), rs.getString("created_by"),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "updated_at"), steps);
    }

    private static void updateStep(Connection c, long job, int ordinal, String state, int progress, String error,
                                   Instant started, Instant ended) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE job_steps SET state = ?, progress = ?, error = ?, "
                + "started_at = ?, ended_at = ? WHERE job_id = ? AND ordinal = ?")) {
            ps.setString(1, state);
            ps.setInt(2, progress);
            ps.setString(3, truncate(error));
            Sql.setInstant(ps, 4, started);
            Sql.setInstant(ps, 5, ended);
            ps.setLong(6, job);
            ps.setInt(7, ordinal);
            ps.executeUpdate();
        }
    }

    private static void updateJob(Connection c, long job, String state, int progress, String error, Instant now)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET state = ?, progress = ?, error = ?, "
                + "updated_at = ? WHERE id = ? AND (state <> ? OR progress <> ? OR error IS NOT NULL)")) {
            ps.setString(1, state);
            ps.setInt(2, progress);
            ps.setString(3, truncate(error));
            Sql.setInstant(ps, 4, now);
            ps.setLong(5, job);
            ps.setString(6, state);
            ps.setInt(7, progress);
            ps.executeUpdate();
        }
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 2000 ? s : s.substring(0, 1997) + "...";
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T inTransaction(Work<T> work) throws SQLException {
        try (Connection c = catalogue.connection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
