package org.secondsite.link.internal;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;

/** The JSON of a heartbeat (contract §3). */
final class HeartbeatBody {
    /** Longest applyError the configuration server accepts. */
    static final int MAX_APPLY_ERROR = 2000;

    private HeartbeatBody() {
    }

    static byte[] encode(String componentId, Instant time, long appliedRevision, String applyError,
                         Metrics.Figures f) {
        return encode(componentId, time, appliedRevision, applyError, f, null);
    }

    /** With the master target's recovery points ({@code null}: none run here). */
    static byte[] encode(String componentId, Instant time, long appliedRevision, String applyError,
                         Metrics.Figures f, PointsReport.Report points) {
        return ConfigServerClient.json(g -> {
            g.writeStringField("componentId", componentId);
            g.writeStringField("time", time.truncatedTo(ChronoUnit.MILLIS).toString());
            g.writeNumberField("appliedRevision", appliedRevision);
            if (applyError != null) {
                g.writeStringField("applyError", applyError.length() <= MAX_APPLY_ERROR ? applyError
                        : applyError.substring(0, MAX_APPLY_ERROR - 3) + "...");
            }
            g.writeObjectFieldStart("metrics");
            g.writeNumberField("backlogBytes", f.backlogBytes());
            if (f.spoolFreePercent() != null) {
                g.writeNumberField("spoolFreePercent", f.spoolFreePercent());
            }
            if (f.cpuLoad() != null) {
                g.writeNumberField("cpuLoad", f.cpuLoad());
            }
            if (f.memoryUsedBytes() != null) {
                g.writeNumberField("memoryUsedBytes", f.memoryUsedBytes());
            }
            g.writeArrayFieldStart("disks");
            for (Metrics.Disk d : f.disks()) {
                g.writeStartObject();
                g.writeStringField("diskId", d.diskId());
                g.writeNumberField("rpoSeconds", d.rpoSeconds());
                g.writeNumberField("backlogBytes", d.backlogBytes());
                g.writeNumberField("throughputBytesPerSecond", d.throughputBytesPerSecond());
                g.writeStringField("state", d.state());
                g.writeBooleanField("resyncRequired", d.resyncRequired());
                if (d.resyncPercent() != null) {
                    g.writeNumberField("resyncPercent", d.resyncPercent());
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
            if (points != null) {
                g.writeObjectFieldStart("points");
                if (points.oldest() == null) {
                    g.writeNullField("oldest");
                } else {
                    g.writeStringField("oldest", points.oldest().toString());
                }
                g.writeArrayFieldStart("items");
                for (RecoveryPoint p : points.items()) {
                    g.writeStartObject();
                    g.writeStringField("id", p.id());
                    g.writeStringField("group", p.group().value());
                    g.writeStringField("time", p.time().toString());
                    g.writeStringField("kind", p.kind() == PointKind.APPLICATION_CONSISTENT ? "app" : "crash");
                    if (p.tagName() != null) {
                        g.writeStringField("tag", p.tagName());
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
        });
    }
}
