package org.secondsite.agent.internal;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.transport.ComponentIdentity;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;

/**
 * The OSGi shell of {@link Agent}. Transports and compressors are collected by name with
 * greedy dynamic references: when the transport in use goes away (bundle update) the
 * connection is dropped and re-established once a transport of that name returns; batches
 * not yet acknowledged are simply resent, the process server discards duplicates.
 */
@Component(name = "org.secondsite.agent", service = {AgentService.class, ReplicationMonitor.class},
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = AgentConfig.class)
public final class AgentComponent implements AgentService, ReplicationMonitor {

    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private final Map<String, Compressor> compressors = new ConcurrentHashMap<>();
    private volatile ComponentIdentity identity;
    private final Agent agent;
    private final Tagger tagger;
    private final Duration configuredAppTags;
    private final Duration configuredCheckpoints;
    private TagSchedule schedule; // guarded by this
    private Duration appTags; // guarded by this

    @Activate
    public AgentComponent(AgentConfig config) throws IOException {
        AgentOptions options = new AgentOptions(Settings.address("processServer", config.processServer()),
                config.transport(), config.compressor(), config.batchBytes(),
                Duration.ofMillis(config.batchAgeMillis()), config.bufferBytes(), config.windowBytes(),
                Settings.path("dataDir", config.dataDir(), System::getProperty),
                Duration.ofSeconds(config.heartbeatSeconds()), Duration.ofSeconds(10), Duration.ofMillis(200),
                Duration.ofSeconds(config.backoffMaxSeconds()), Settings.tracking(config.regionBytes(),
                        config.spillBytes(), config.bitmapAfterSeconds(), config.dirtyClearMillis()),
                Settings.checkpoint(config.checkpointMillis()));
        TagOptions tagOptions = Settings.tags(config.preFreezeHooks(), config.postThawHooks(), config.freezeMounts(),
                config.hookTimeoutMillis(), config.tagHoldMillis(), config.recentTagNames());
        this.agent = new Agent(options, this::componentId, transports::get, this::security, compressors::get,
                Clock.systemUTC());
        this.tagger = new Tagger(agent, tagOptions, Clock.systemUTC());
        if (config.appTagMinutes() < 0 || config.appTagMinutes() > 525_600) {
            agent.close();
            throw new IllegalArgumentException("appTagMinutes must be 0 (off) to 525600 (a year), got "
                    + config.appTagMinutes());
        }
        this.configuredAppTags = Duration.ofMinutes(config.appTagMinutes());
        this.configuredCheckpoints = options.checkpointInterval();
        this.appTags = configuredAppTags;
        this.schedule = new TagSchedule(appTags, agent::groups, tagger::tag, Clock.systemUTC());
    }

    private String componentId() {
        ComponentIdentity id = identity;
        if (id == null) {
            throw new IllegalStateException("no component identity");
        }
        return id.componentId();
    }

    private TransportSecurity security() {
        ComponentIdentity id = identity;
        return id == null ? null : id.transportSecurity();
    }

    @Override
    public synchronized void schedule(Duration checkpointInterval, Duration appTagInterval) {
        Duration checkpoints = checkpointInterval == null ? configuredCheckpoints : checkpointInterval;
        Duration tags = appTagInterval == null ? configuredAppTags : appTagInterval;
        TagSchedule next = tags.equals(appTags) ? null : new TagSchedule(tags, agent::groups, tagger::tag,
                Clock.systemUTC()); // refuses a bad interval before anything changes
        try {
            agent.checkpointInterval(checkpoints);
        } catch (IllegalArgumentException e) {
            if (next != null) {
                next.close();
            }
            throw e;
        }
        if (next != null) {
            schedule.close();
            schedule = next;
            appTags = tags;
        }
    }

    @Deactivate
    synchronized void deactivate() {
        schedule.close();
        tagger.close(); // releases held coordinated tags and thaws first
        agent.close();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindIdentity(ComponentIdentity id) {
        this.identity = id;
    }

    void unbindIdentity(ComponentIdentity id) {
        if (identity == id) {
            identity = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.PROPERTY);
        if (name != null) {
            transports.put(name.toString(), t);
        }
    }

    void unbindTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.PROPERTY);
        if (name != null && transports.remove(name.toString(), t) && agent != null
                && name.toString().equals(agent.options().transport())) {
            agent.dropConnection(); // re-established once a transport of that name returns
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindCompressor(Compressor c, Map<String, Object> props) {
        Object name = props.get(Compressor.PROPERTY);
        if (name != null) {
            compressors.put(name.toString(), c);
        }
    }

    void unbindCompressor(Compressor c, Map<String, Object> props) {
        Object name = props.get(Compressor.PROPERTY);
        if (name != null && compressors.remove(name.toString(), c) && agent != null
                && name.toString().equals(agent.options().compressor())) {
            agent.dropConnection(); // the next handshake picks a compressor still present
        }
    }

    @Override
    public ChangeSink protect(DiskId disk, GroupId group, long size) {
        return agent.protect(disk, group, size);
    }

    @Override
    public void unprotect(DiskId disk) throws IOException {
        agent.unprotect(disk);
    }

    @Override
    public void tag(DiskId disk, ConsistencyTag tag) throws IOException {
        agent.tag(disk, tag);
    }

    @Override
    public TagResult tag(GroupId group, String name, TagKind kind) {
        return tagger.tag(group, name, kind);
    }

    @Override
    public List<GroupId> groups() {
        return agent.groups();
    }

    @Override
    public Optional<GroupId> groupOf(DiskId disk) {
        return agent.groupOf(disk);
    }

    @Override
    public List<DiskId> protectedDisks() {
        List<DiskId> out = new ArrayList<>();
        for (DiskReplicationStatus s : agent.disks()) {
            out.add(s.disk());
        }
        return out;
    }

    @Override
    public void requestResync(DiskId disk, String reason) throws IOException {
        agent.requestResync(disk, reason);
    }

    @Override
    public void attachSource(DiskId disk, BlockDevice source) {
        agent.attachSource(disk, source);
    }

    @Override
    public void detachSource(DiskId disk, BlockDevice source) {
        agent.detachSource(disk, source);
    }

    @Override
    public Optional<ResyncProgress> resyncProgress(DiskId disk) {
        return agent.resyncProgress(disk);
    }

    @Override
    public void verify(DiskId disk, VerifyReport.Mode mode) throws IOException {
        agent.verify(disk, mode);
    }

    @Override
    public Optional<VerifyReport> verifyReport(DiskId disk) {
        return agent.verifyReport(disk);
    }

    @Override
    public Stage stage() {
        return Stage.AGENT;
    }

    /** The state of a disk whose source fails (vanished, read-only, I/O errors); tracking goes on. */
    static final String SOURCE_FAILED = "source-failed";

    private final java.util.concurrent.ConcurrentHashMap<DiskId, java.util.function.Supplier<String>> sourceProblems =
            new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void sourceProblem(DiskId disk, java.util.function.Supplier<String> problem) {
        if (problem == null) {
            sourceProblems.remove(disk);
        } else {
            sourceProblems.put(disk, problem);
        }
    }

    @Override
    public List<DiskReplicationStatus> disks() {
        return withSourceProblems(agent.disks(), sourceProblems);
    }

    /** The statuses, a disk whose source reports a problem shown as {@link #SOURCE_FAILED} with it as message. */
    static List<DiskReplicationStatus> withSourceProblems(List<DiskReplicationStatus> disks,
            java.util.Map<DiskId, java.util.function.Supplier<String>> problems) {
        List<DiskReplicationStatus> out = new java.util.ArrayList<>(disks.size());
        for (DiskReplicationStatus s : disks) {
            java.util.function.Supplier<String> p = problems.get(s.disk());
            String problem = p == null ? "" : p.get();
            if (problem == null || problem.isEmpty()) {
                out.add(s);
            } else {
                String message = problem + " (changes stay tracked; link: " + s.state()
                        + (s.message().isEmpty() ? "" : ", " + s.message()) + ")";
                out.add(new DiskReplicationStatus(s.disk(), s.stage(), SOURCE_FAILED, message, s.lastSequence(),
                        s.acknowledgedSequence(), s.backlogBytes(), s.oldestPendingWrite(), s.newestAppliedWrite(),
                        s.bytesIn(), s.bytesOut(), s.tracking(), s.resync()));
            }
        }
        return out;
    }
}
