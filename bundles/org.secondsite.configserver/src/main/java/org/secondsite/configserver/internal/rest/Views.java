package org.secondsite.configserver.internal.rest;

import java.time.Instant;
import java.util.List;
import java.util.function.Function;

import org.secondsite.configserver.internal.Page;
import org.secondsite.configserver.internal.catalogue.Component;
import org.secondsite.configserver.internal.catalogue.Policy;

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

    static String iso(Instant t) {
        return t == null ? null : t.toString();
    }
}
