package org.secondsite.configserver.internal.rest;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.AuditLog;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.Event;
import org.secondsite.configserver.internal.catalogue.HealthStore;
import org.secondsite.configserver.internal.catalogue.Heartbeat;
import org.secondsite.configserver.internal.catalogue.Policy;
import org.secondsite.configserver.internal.protection.Job;
import org.secondsite.configserver.internal.protection.Machine;
import org.secondsite.configserver.internal.protection.MirroredPoint;

/** The JSON documents of the configuration server's resources (times as ISO-8601 strings). */
public final class Views {
    private Views() {
    }

    /** A page of a list: its items, and the total to page through. */
    public record PageView<T>(List<T> items, long total, int offset, int limit) {
        static <S, T> PageView<T> of(Page<S> page, Function<S, T> view) {
            return new PageView<>(page.items().stream().map(view).toList(), page.total(), page.offset(), page.limit());
        }
    }

    public record ComponentView(String id, String role, String site, String address, String state,
                                String certificateSerial, String certificateExpires, String registeredAt,
                                String removedAt, String lastHeartbeat) {
        static ComponentView of(Component c) {
            return new ComponentView(c.id(), c.role(), c.site(), c.address(), c.state(), c.certificateSerial(),
                    iso(c.certificateExpires()), iso(c.registeredAt()), iso(c.removedAt()), iso(c.lastHeartbeat()));
        }
    }

    public record PolicyView(String id, int rpoThresholdSeconds, int checkpointIntervalSeconds,
                             long retentionWindowSeconds, long retentionSpaceBytes, String appConsistencySchedule,
                             String compressor, String bandwidthSchedule, String createdAt, String updatedAt) {
        static PolicyView of(Policy p) {
            return new PolicyView(p.id(), p.rpoThresholdSeconds(), p.checkpointIntervalSeconds(),
                    p.retentionWindowSeconds(), p.retentionSpaceBytes(), p.appConsistencySchedule(), p.compressor(),
                    p.bandwidthSchedule(), iso(p.createdAt()), iso(p.updatedAt()));
        }
    }

    /**
     * The answer to a heartbeat: whether its figures were stored (false: a later one is stored), the
     * component's desired-state revision, and the desired state itself when the component has not
     * applied that revision ({@code docs/PROTOCOL.md} §8).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HeartbeatAnswer(String componentId, boolean stored, long desiredRevision, JsonNode desired) {
        static HeartbeatAnswer of(String componentId, ConfigServer.HeartbeatAnswer a) {
            JsonNode doc = null;
            if (a.desired() != null) {
                ObjectNode o = a.desired().document().deepCopy();
                o.put("revision", a.desired().revision());
                doc = o;
            }
            return new HeartbeatAnswer(componentId, a.stored(), a.desiredRevision(), doc);
        }
    }

    public record MachineView(String id, String name, String kind, String state, String agentId,
                              String processServerId, String masterTargetId, String group, String policyId,
                              String createdAt, List<DiskView> disks) {
        static MachineView of(Machine m) {
            return new MachineView(m.id(), m.name(), m.kind(), m.state(), m.agentId(), m.processServerId(),
                    m.masterTargetId(), m.groupId(), m.policyId(), iso(m.createdAt()),
                    m.disks().stream().map(d -> new DiskView(d.id(), d.source(), d.driver(), d.options(), d.sizeBytes(),
                            d.resyncRequest())).toList());
        }
    }

    public record DiskView(String diskId, String source, String driver, Map<String, String> options, long sizeBytes,
                           long resyncRequests) {
    }

    public record JobView(long id, String kind, String machineId, String state, int progress, String error,
                          String createdBy, String createdAt, String updatedAt, List<StepView> steps) {
        static JobView of(Job j) {
            return new JobView(j.id(), j.kind(), j.machineId(), j.state(), j.progress(), j.error(), j.createdBy(),
                    iso(j.createdAt()), iso(j.updatedAt()), j.steps().stream().map(s -> new StepView(s.ordinal(),
                            s.name(), s.state(), s.progress(), s.error(), iso(s.startedAt()), iso(s.endedAt()))).toList());
        }
    }

    public record PointView(String id, String group, String time, String kind, String tag, List<String> disks) {
        static PointView of(MirroredPoint p) {
            return new PointView(p.id(), p.group(), iso(p.time()), p.kind(), p.tag(), p.disks());
        }
    }

    public record StepView(int ordinal, String name, String state, int progress, String error, String startedAt,
                           String endedAt) {
    }

    /** The latest heartbeat of a component, in the shape it was sent, with when it was received. */
    public record HeartbeatView(String componentId, String time, String receivedAt, MetricsView metrics) {
        static HeartbeatView of(HealthStore.Latest latest) {
            Heartbeat h = latest.heartbeat();
            return new HeartbeatView(h.componentId(), iso(h.time()), iso(latest.receivedAt()),
                    new MetricsView(h.backlogBytes(), h.spoolFreePercent(), h.cpuLoad(), h.memoryUsedBytes(),
                            h.disks()));
        }
    }

    public record MetricsView(long backlogBytes, Double spoolFreePercent, Double cpuLoad, Long memoryUsedBytes,
                              List<Heartbeat.Disk> disks) {
    }

    public record EventView(long id, String time, String severity, String kind, String source, String subject,
                            String message, boolean alert, boolean active, String raisedAt, String clearedAt,
                            String acknowledgedBy, String acknowledgedAt) {
        static EventView of(Event e) {
            return new EventView(e.id(), iso(e.raisedAt()), e.severity(), e.kind(), e.source(), e.subject(),
                    e.message(), e.alert(), e.active(), iso(e.raisedAt()), iso(e.clearedAt()), e.acknowledgedBy(),
                    iso(e.acknowledgedAt()));
        }
    }

    public record AuditView(long id, String time, String user, String action, String target, String outcome) {
        static AuditView of(AuditLog.Entry e) {
            return new AuditView(e.id(), iso(e.at()), e.actor(), e.action(), e.target(), e.outcome());
        }
    }

    static String iso(Instant t) {
        return t == null ? null : t.toString();
    }
}
