package org.secondsite.configserver.internal.protection;

import java.time.Instant;
import java.util.List;

/**
 * A recovery point of a master target, as mirrored into the catalogue.
 *
 * @param id the master target's id of the point
 * @param group its consistency group
 * @param time when it was cut
 * @param kind {@code crash} or {@code app}
 * @param tag its name, or null
 * @param disks the catalogue's disks of the group (on read; empty in a report)
 */
public record MirroredPoint(String id, String group, Instant time, String kind, String tag, List<String> disks) {
    public static final List<String> KINDS = List.of("crash", "app");

    public MirroredPoint {
        disks = disks == null ? List.of() : List.copyOf(disks);
    }
}
