package org.secondsite.processserver.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.agent.internal.ResyncOptions;
import org.secondsite.agent.internal.TagOptions;
import org.secondsite.agent.internal.Tagger;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.testkit.TestPki;
import org.secondsite.transport.tls.internal.TlsOptions;
import org.secondsite.transport.tls.internal.TlsTransport;

/**
 * Two agents (one disk each, one consistency group) and one process server in one JVM over TLS on
 * loopback: coordinated tags enter both streams, holds are bounded, a silent member voids nothing
 * and blocks nobody for long.
 */
class GroupCoordinatorTest {
    static final DiskId DB = DiskId.of("db01:disk0");
    static final DiskId APP = DiskId.of("app01:disk0");
    static final GroupId ERP = GroupId.of("erp");
    static final Duration BUDGET = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    final TlsTransport tls = new TlsTransport(TlsOptions.defaults());
    final Map<String, Transport> transports = new ConcurrentHashMap<>(Map.of("tls", tls));
    TestPki pki;
    ProcessServer ps;
    final List<Agent> agents = new ArrayList<>();
    final List<Tagger> taggers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        pki = TestPki.newCa("secondsite-test-ca");
        TransportSecurity psSecurity = pki.security("ps-1", id -> id.startsWith("agent-") || id.equals("mt-1"));
        // no master target: batches stay in the spool, where the test reads them
        ProcessServerOptions o = ProcessServerOptions.defaults(new InetSocketAddress("127.0.0.1", 0),
                new InetSocketAddress("127.0.0.1", 1), dir.resolve("spool"))
                .withSpool(1L << 30, 16L << 20).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
        ps = new ProcessServer(o, () -> "ps-1", transports::get, () -> psSecurity, name -> null, Clock.systemUTC());
    }

    @AfterEach
    void stop() throws IOException {
        taggers.forEach(Tagger::close);
        agents.forEach(Agent::close);
        ps.close();
    }

    /** Starts an agent with one disk in group erp; {@code answering} false: it never answers TAG_PREPARE. */
    ChangeSink agent(String id, DiskId disk, boolean answering, Duration hold) throws Exception {
        TransportSecurity sec = pki.security(id, peer -> peer.equals("ps-1"));
        AgentOptions o = AgentOptions.defaults(ps.listenAddress(), dir.resolve(id))
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).withCheckpointInterval(Duration.ZERO)
                .withBatching(64 << 10, Duration.ofMillis(10));
        Agent a = new Agent(o, ResyncOptions.defaults().withoutInitialReplication(), () -> id, transports::get,
                () -> sec, name -> null, Clock.systemUTC());
        agents.add(a);
        ChangeSink sink = a.protect(disk, ERP, 16 << 20);
        if (answering) {
            taggers.add(new Tagger(a, TagOptions.defaults().withHold(hold), Clock.systemUTC()));
        } else {
            a.coordination(m -> { }); // takes the messages and does nothing: a member that never answers
        }
        return sink;
    }

    void awaitMembers(int n) {
        await().atMost(BUDGET).until(() -> ps.coordinator().groups().getOrDefault(ERP, Map.of()).size() == n
                && ps.coordinator().connectedAgents().size() == n);
    }

    List<ConsistencyTag> spooledTags(DiskId disk) throws IOException {
        List<ConsistencyTag> out = new ArrayList<>();
        for (DeltaBatch b : ps.spooled(disk)) {
            out.addAll(b.tags());
        }
        return out;
    }

    /** Offsets of the records before and after the tag in the disk's spooled stream. */
    List<List<Long>> split(DiskId disk, UUID tag) throws IOException {
        List<Long> before = new ArrayList<>();
        List<Long> after = new ArrayList<>();
        boolean seen = false;
        for (DeltaBatch b : ps.spooled(disk)) {
            for (ChangeRecord r : b.records()) {
                (seen ? after : before).add(r.offset());
            }
            seen |= b.tags().stream().anyMatch(t -> t.id().equals(tag));
        }
        assertTrue(seen, "tag " + tag + " is in the stream of " + disk);
        return List.of(before, after);
    }

    static void write(ChangeSink sink, long offset) {
        try {
            sink.accept(ChangeRecord.write(offset, ByteBuffer.allocate(4096)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aCoordinatedTagEntersBothAgentsStreamsBetweenTheWritesBeforeAndAfterIt() throws Exception {
        ChangeSink db = agent("agent-1", DB, true, Duration.ofSeconds(10));
        ChangeSink app = agent("agent-2", APP, true, Duration.ofSeconds(10));
        awaitMembers(2);
        write(db, 0);
        write(app, 0);
        GroupCoordinator.Outcome r = ps.coordinator().tag(ERP, "month-end", TagKind.APPLICATION);
        assertEquals(GroupCoordinator.Status.TAGGED, r.status(), r.summary());
        assertEquals(Map.of("agent-1", List.of(DB), "agent-2", List.of(APP)), r.disks());
        assertTrue(r.hold().compareTo(ps.coordinator().holdBound()) < 0, "writes held " + r.hold()
                + ", within the bound " + ps.coordinator().holdBound());
        write(db, 4096);
        write(app, 4096);
        await().atMost(BUDGET).until(() -> ps.spooled(DB).stream().mapToLong(b -> b.records().size()).sum() == 2
                && ps.spooled(APP).stream().mapToLong(b -> b.records().size()).sum() == 2);
        for (DiskId d : List.of(DB, APP)) {
            assertEquals(List.of(r.tagId()), spooledTags(d).stream().map(ConsistencyTag::id).toList());
            assertEquals(List.of(List.of(0L), List.of(4096L)), split(d, r.tagId()));
        }
        assertEquals(spooledTags(DB), spooledTags(APP), "one tag (id, name, kind, time) on both agents' disks");

        GroupCoordinator.Outcome clash = ps.coordinator().tag(ERP, "month-end", TagKind.BOOKMARK);
        assertEquals(GroupCoordinator.Status.REFUSED, clash.status());
        assertTrue(clash.message().contains("clashes with a recent tag of group erp"), clash.message());
        GroupCoordinator.Outcome unknown = ps.coordinator().tag(GroupId.of("nope"), "x", TagKind.BOOKMARK);
        assertTrue(unknown.message().contains("no agent of this process server has a disk in group nope"),
                unknown.message());
    }

    /**
     * A member that never answers: the tag is refused when the hold bound after the first TAG_HELD
     * passes; the answering agent's writes, held meanwhile, go on (released by the coordinator's
     * TAG_RELEASE or, at the latest, by the agent itself at its bound); no tag enters any stream.
     */
    @Test
    void aSilentMemberRefusesTheTagAndEveryAgentWritesAgainWithinTheBound() throws Exception {
        ChangeSink db = agent("agent-1", DB, true, Duration.ofSeconds(20));
        ChangeSink app = agent("agent-2", APP, false, Duration.ofSeconds(20));
        awaitMembers(2);
        // the coordinator's bound ends it (the agents' own, longer, are the backstop)
        ps.coordinator().settings(Duration.ofMillis(500), Duration.ofSeconds(20));
        CompletableFuture<GroupCoordinator.Outcome> tag = CompletableFuture.supplyAsync(
                () -> ps.coordinator().tag(ERP, "stuck", TagKind.BOOKMARK));
        Agent dbAgent = agents.get(0);
        await().atMost(BUDGET).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2))
                .until(() -> dbAgent.isHeld(ERP) || tag.isDone());
        CompletableFuture<Void> heldWrite = CompletableFuture.runAsync(() -> write(db, 8192));
        write(app, 8192); // the silent agent holds nothing
        GroupCoordinator.Outcome r = tag.get(BUDGET.toSeconds(), TimeUnit.SECONDS);
        assertEquals(GroupCoordinator.Status.REFUSED, r.status(), r.summary());
        // the coordinator gives up at 3/4 of the bound; on a slow machine agent-1's own bound may end it first
        assertTrue(r.message().contains("no answer from [agent-2]")
                || r.message().contains("agent-1=hold of 500 ms expired before TAG_RELEASE"), r.message());
        heldWrite.get(BUDGET.toSeconds(), TimeUnit.SECONDS);
        assertFalse(dbAgent.isHeld(ERP));
        await().atMost(BUDGET).until(() -> !ps.spooled(DB).isEmpty() && !ps.spooled(APP).isEmpty());
        assertTrue(spooledTags(DB).isEmpty() && spooledTags(APP).isEmpty(), "no tag in any stream");
        write(db, 12288); // and writing goes on
    }

    /**
     * A member whose hold expired before the commit reached it answers TAG_RELEASE with "not
     * inserted": the outcome is VOID (its stream lacks the tag, so the master target never
     * completes the group's point). Both members are played by hand here, to order the messages;
     * the agent's own expiry is in the agent's TaggerTest.
     */
    @Test
    void aMemberThatReleasedByItselfBeforeTheCommitMakesTheTagVoid() throws Exception {
        agent("agent-1", DB, false, Duration.ofSeconds(10));
        agent("agent-2", APP, false, Duration.ofSeconds(10));
        awaitMembers(2);
        for (Agent a : agents) {
            DiskId disk = a == agents.get(0) ? DB : APP;
            boolean expired = a == agents.get(0);
            a.coordination(m -> {
                if (m instanceof org.secondsite.wire.Message.TagPrepare p) {
                    a.sendControl(new org.secondsite.wire.Message.TagHeld(p.tag().id(), true, List.of(disk)));
                } else if (m instanceof org.secondsite.wire.Message.TagRelease rel) {
                    a.sendControl(expired
                            ? new org.secondsite.wire.Message.TagDone(rel.tagId(), false, "hold had expired")
                            : new org.secondsite.wire.Message.TagDone(rel.tagId(), rel.commit(), ""));
                }
            });
        }
        GroupCoordinator.Outcome r = ps.coordinator().tag(ERP, "late", TagKind.BOOKMARK);
        assertEquals(GroupCoordinator.Status.VOID, r.status(), r.summary());
        assertTrue(r.message().contains("agent-1: hold had expired"), r.message());
        assertTrue(r.summary().contains("no recovery point will be listed"), r.summary());
        GroupCoordinator.Outcome again = ps.coordinator().tag(ERP, "late", TagKind.BOOKMARK);
        assertEquals(GroupCoordinator.Status.VOID, again.status(), "a void tag's name may be used again: "
                + again.summary());
    }

    @Test
    void aMemberThatIsNotConnectedRefusesTheTagAtOnce() throws Exception {
        agent("agent-1", DB, true, Duration.ofSeconds(10));
        awaitMembers(1);
        ps.coordinator().disk("agent-9", DiskId.of("old01:disk0"), ERP); // known from an earlier DISK_INFO
        GroupCoordinator.Outcome r = ps.coordinator().tag(ERP, "x", TagKind.BOOKMARK);
        assertEquals(GroupCoordinator.Status.REFUSED, r.status());
        assertTrue(r.message().contains("not connected with capability tag.coordination: agent-9 [old01:disk0]"),
                r.message());
        assertFalse(agents.get(0).isHeld(ERP));
    }

    /**
     * Groups spanning agents get coordinated CHECKPOINT tags (one id on both agents' disks, also on
     * the disk that was not written); a group no member wrote since gets none.
     */
    @Test
    void groupsSpanningAgentsGetCoordinatedCheckpointsAndIdleOnesNone() throws Exception {
        ChangeSink db = agent("agent-1", DB, true, Duration.ofSeconds(10));
        agent("agent-2", APP, true, Duration.ofSeconds(10));
        awaitMembers(2);
        write(db, 0);
        ps.coordinator().checkpointEvery(Duration.ofMillis(200));
        await().atMost(BUDGET).until(() -> spooledTags(DB).stream().anyMatch(t -> t.kind() == TagKind.CHECKPOINT)
                && spooledTags(APP).stream().anyMatch(t -> t.kind() == TagKind.CHECKPOINT));
        ps.coordinator().checkpointEvery(Duration.ZERO);
        await().atMost(BUDGET).until(() -> spooledTags(DB).size() == spooledTags(APP).size());
        assertEquals(spooledTags(DB), spooledTags(APP), "the same checkpoints on both agents' disks");
        assertEquals(1, spooledTags(DB).size(), "one write, one checkpoint: later rounds found the group idle");
        assertEquals(GroupCoordinator.Status.IDLE, ps.coordinator().tag(ERP, GroupCoordinator.CHECKPOINT_NAME,
                TagKind.CHECKPOINT).status());
        write(db, 4096);
        GroupCoordinator.Outcome r = ps.coordinator().tag(ERP, GroupCoordinator.CHECKPOINT_NAME, TagKind.CHECKPOINT);
        assertEquals(GroupCoordinator.Status.TAGGED, r.status(), r.summary());
        await().atMost(BUDGET).until(() -> spooledTags(DB).size() == 2 && spooledTags(APP).size() == 2);
        assertEquals(List.of(List.of(0L), List.of(4096L)), split(DB, spooledTags(DB).get(0).id()));
        assertEquals(List.of(List.of(0L, 4096L), List.of()), split(DB, r.tagId()));
    }
}
