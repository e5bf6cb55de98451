package org.secondsite.agent.internal.shell;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.TagResult;
import org.secondsite.agent.internal.VerifyReport;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;

/**
 * An {@link AgentService} for command tests: every method refuses, naming the command under test,
 * so a command calling something it should not fails its test; a test overrides what the command uses.
 */
public abstract class UnusedAgentService implements AgentService {
    private final String command;

    protected UnusedAgentService(String command) {
        this.command = command;
    }

    private AssertionError unused() {
        return new AssertionError(command + " called an AgentService method it has no use for");
    }

    @Override
    public ChangeSink protect(DiskId disk, GroupId group, long size) {
        throw unused();
    }

    @Override
    public void unprotect(DiskId disk) {
        throw unused();
    }

    @Override
    public void tag(DiskId disk, ConsistencyTag tag) {
        throw unused();
    }

    @Override
    public void sourceProblem(DiskId disk, Supplier<String> problem) {
        throw unused();
    }

    @Override
    public List<DiskId> protectedDisks() {
        throw unused();
    }

    @Override
    public void requestResync(DiskId disk, String reason) {
        throw unused();
    }

    @Override
    public void schedule(java.time.Duration checkpointInterval, java.time.Duration appTagInterval) {
        throw unused();
    }

    @Override
    public void attachSource(DiskId disk, BlockDevice source) {
        throw unused();
    }

    @Override
    public void detachSource(DiskId disk, BlockDevice source) {
        throw unused();
    }

    @Override
    public Optional<ResyncProgress> resyncProgress(DiskId disk) {
        throw unused();
    }

    @Override
    public void verify(DiskId disk, VerifyReport.Mode mode) {
        throw unused();
    }

    @Override
    public Optional<VerifyReport> verifyReport(DiskId disk) {
        throw unused();
    }

    @Override
    public TagResult tag(GroupId group, String name, TagKind kind) {
        throw unused();
    }

    @Override
    public List<GroupId> groups() {
        throw unused();
    }

    @Override
    public Optional<GroupId> groupOf(DiskId disk) {
        throw unused();
    }
}
