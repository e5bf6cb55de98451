package org.secondsite.api.replication;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Offered as an OSGi service by each replication stage running in this appliance (agent,
 * process server, master target): the state of every disk that stage handles.
 */
@ProviderType
public interface ReplicationMonitor {

    /** The stage this monitor reports on. */
    Stage stage();

    /** One entry per disk, sorted by disk id; a snapshot, cheap enough to call every second. */
    List<DiskReplicationStatus> disks();

    /** Replication stages. */
    enum Stage {
        AGENT, PROCESS_SERVER, MASTER_TARGET
    }
}
