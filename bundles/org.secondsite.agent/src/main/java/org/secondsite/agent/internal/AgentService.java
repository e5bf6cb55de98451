package org.secondsite.agent.internal;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.replication.ResyncProgress;
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

    /**
     * Where to ask what is wrong with a disk's source now ({@code CaptureSession.problem()}: empty
     * while healthy); {@code null} forgets it. A problem shows as the disk's state
     * {@value AgentComponent#SOURCE_FAILED} with the problem as its message.
     */
    void sourceProblem(DiskId disk, java.util.function.Supplier<String> problem);

    /** The protected disks. */
    List<DiskId> protectedDisks();

    /**
     * Requests a resync of a protected disk: its source is compared with the replica by hashes and
     * the differing blocks are sent. Recorded before this returns (it runs again after a restart
     * until it completes); if one runs, another full pass follows it. For {@code dr:resync} and
     * for the change tracking when it leaves bitmap mode.
     *
     * @throws IllegalArgumentException if the disk is not protected
     */
    void requestResync(DiskId disk, String reason) throws IOException;

    /**
     * Changes the checkpoint interval and the application-consistent tag schedule live (capture and
     * replication go on); {@code null} for either restores the agent configuration's value.
     *
     * @param checkpointInterval 100 ms .. 1 h, or zero for no checkpoints
     * @param appTagInterval zero (off) or at least a minute
     * @throws IllegalArgumentException for a value out of range (nothing changes then)
     */
    void schedule(java.time.Duration checkpointInterval, java.time.Duration appTagInterval);

    /** The source of a protected disk (its capture session's), from which resyncs and dirty-region replays read. */
    void attachSource(DiskId disk, BlockDevice source);

    /** The disk's capture session stopped: its resync pauses until a source is attached again. */
    void detachSource(DiskId disk, BlockDevice source);

    /** The disk's running or last resync since the agent started. */
    Optional<ResyncProgress> resyncProgress(DiskId disk);

    /**
     * Starts an online verification of a protected disk's replica ({@code VERIFY}: compare only, the
     * replica is left as it is; {@code VERIFY_AND_REPAIR}: then resync just the mismatched regions),
     * or the repair of the mismatched regions of its last completed verification ({@code REPAIR}).
     * Returns at once; the progress shows in {@link #resyncProgress}, the result in
     * {@link #verifyReport}. For {@code dr:verify}.
     *
     * @throws IllegalArgumentException if the disk is not protected
     * @throws IllegalStateException if a resync or verification of the disk runs, or its replica is not
     *         consistent (a resync is owed, dirty regions wait), or there is nothing to repair
     */
    void verify(DiskId disk, VerifyReport.Mode mode) throws IOException;

    /** The disk's last verification or repair that ended since the agent started. */
    Optional<VerifyReport> verifyReport(DiskId disk);

    /**
     * Tags every disk of {@code group} protected here at one moment: for {@link TagKind#APPLICATION}
     * after the pre-freeze hooks and filesystem freezes (thawed and post-thaw hooks run afterwards,
     * always); {@link TagKind#BOOKMARK} without hooks. Never throws for bad input: a refusal (unknown
     * group, name clash, invalid name, failing or hanging hook, group not consistent now) is a
     * {@link TagResult} with status REFUSED and the reason. A group spanning several machines is
     * tagged through the process server's coordinator instead.
     */
    TagResult tag(GroupId group, String name, TagKind kind);

    /** The consistency groups of the protected disks, ascending. */
    List<GroupId> groups();

    /** The group of a protected disk, or empty if the disk is not protected here. */
    Optional<GroupId> groupOf(DiskId disk);
}
