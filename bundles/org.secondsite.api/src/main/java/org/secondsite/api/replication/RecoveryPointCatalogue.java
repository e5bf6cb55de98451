package org.secondsite.api.replication;

import java.io.IOException;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;
import org.secondsite.api.model.RecoveryPoint;

/**
 * The recovery points a master target lists now (complete on every member disk of their group and
 * inside the retention window). The configuration server's catalogue mirrors them from the master
 * target's heartbeats.
 */
@ProviderType
public interface RecoveryPointCatalogue {

    /**
     * A snapshot of the listed points of every consistency group, oldest first.
     *
     * @throws IOException when the retention journal cannot be read now (e.g. its storage is away)
     */
    List<RecoveryPoint> points() throws IOException;
}
