package org.secondsite.appliance.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;

/**
 * Every replication stage running in this appliance, collected dynamically, for
 * {@code dr:replication} and {@code GET /api/v1/replication}.
 */
@Component(service = ReplicationOverview.class)
public class ReplicationOverview {
    private final List<ReplicationMonitor> monitors = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addMonitor(ReplicationMonitor monitor) {
        monitors.add(monitor);
    }

    void removeMonitor(ReplicationMonitor monitor) {
        monitors.remove(monitor);
    }

    /** All disks at all stages, ordered by disk, then stage in data-path order. */
    public List<DiskReplicationStatus> disks() {
        List<DiskReplicationStatus> all = new ArrayList<>();
        for (ReplicationMonitor m : monitors) {
            all.addAll(m.disks());
        }
        all.sort(Comparator.comparing(DiskReplicationStatus::disk).thenComparing(DiskReplicationStatus::stage));
        return all;
    }
}
