package org.secondsite.mastertarget.internal.retention;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.RecoveryPoint;

/**
 * A recovery point with the sequence, per member disk, of the batch after which it holds.
 *
 * @param point the public description
 * @param sequences disk -> sequence of the batch carrying the point's tag
 */
public record PointDetail(RecoveryPoint point, SortedMap<DiskId, Long> sequences) {
    public PointDetail {
        sequences = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(sequences));
    }

    static PointDetail of(RecoveryPoint p, Map<DiskId, Long> sequences) {
        return new PointDetail(p, new TreeMap<>(sequences));
    }
}
