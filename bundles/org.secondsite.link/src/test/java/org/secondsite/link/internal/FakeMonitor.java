package org.secondsite.link.internal;

import java.util.List;

import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;

/** A replication stage reporting what the test sets. */
final class FakeMonitor implements ReplicationMonitor {
    private final Stage stage;
    volatile List<DiskReplicationStatus> disks = List.of();

    FakeMonitor(Stage stage) {
        this.stage = stage;
    }

    @Override
    public Stage stage() {
        return stage;
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        return disks;
    }
}
