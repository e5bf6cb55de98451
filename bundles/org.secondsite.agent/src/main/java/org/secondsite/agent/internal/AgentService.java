package org.secondsite.agent.internal;

import java.io.IOException;
import java.util.List;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.storage.BlockDevice;

/**
 * Programmatic control of the agent's protected disks, offered as an OSGi service by
 * {@link AgentComponent} for the disk configurations ({@link DiskComponent}) and, later, the
 * control plane. Internal: not exported yet.
 */
public interface AgentService {
    /** Starts tracking a disk of {@code size} bytes and returns the sink its capture driver feeds. */
    ChangeSink protect(DiskId disk, GroupId group, long size);

    /** Stops tracking a disk; batches not yet acknowledged by the process server are dropped. */
    void unprotect(DiskId disk) throws IOException;

    /** Closes the disk's open batch with a consistency tag. */
    void tag(DiskId disk, ConsistencyTag tag) throws IOException;

    /** The protected disks. */
    List<DiskId> protectedDisks();

    /** The disk's source for reading (its capture session's), which the replay of dirty regions reads. */
    void attachSource(DiskId disk, BlockDevice source);

    /** The capture session that gave {@code source} ended. */
    void detachSource(DiskId disk, BlockDevice source);
}
