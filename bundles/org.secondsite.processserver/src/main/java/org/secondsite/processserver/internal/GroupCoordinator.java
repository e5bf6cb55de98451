package org.secondsite.processserver.internal;

import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.wire.Message;
import org.secondsite.wire.WireProtocol;

/**
 * Tags of consistency groups that span several agents (docs/PROTOCOL.md §7). Knows, from DISK_INFO,
 * which agents have disks in which group, and which of them are connected now with capability
 * {@code tag.coordination}. A tag is a two-phase exchange:
 * <ol>
 * <li>TAG_PREPARE to every member agent; each runs its pre-freeze hooks (APPLICATION), holds the
 * writes of its disks of the group and answers TAG_HELD (or TAG_REFUSED);</li>
 * <li>once every member answered TAG_HELD, within the hold bound counted from the first TAG_HELD,
 * TAG_RELEASE(commit) to all: each agent seals the tag into its held disks and lets writes go on;
 * otherwise TAG_RELEASE(no commit): no agent inserts it.</li>
 * </ol>
 * All members held their writes at the moment the coordinator decided, so the tag's position in
 * every stream is the state of every disk at that moment. An agent whose hold bound passed before
 * the TAG_RELEASE arrived released by itself and inserted nothing: its disks lack the tag, so the
 * master target never completes (lists) that point; the outcome is {@link Status#VOID}. Writes are
 * never held longer than the hold bound on any agent. Membership changes (a new agent's DISK_INFO)
 * touch nobody's replication. Plain Java.
 */
public final class GroupCoordinator {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());

    /** An agent connection that takes part in coordinated tags. */
    public interface Member {
        /** The agent's component id. */
        String agent();

        /** Queues a message for the agent; never blocks for long. */
        void send(Message m);
    }

    /** How a coordinated tag ended. */
    public enum Status {
        /** Every member agent inserted the tag into every disk of the group it has. */
        TAGGED,
        /** No agent inserted the tag; the message says why. */
        REFUSED,
        /**
         * Some agents inserted the tag, at least one did not (its hold expired before the commit
         * reached it): the group's point will not be listed.
         */
        VOID,
        /** Committed, but not every member confirmed in time: the point is listed only if all inserted it. */
        UNCONFIRMED,
        /** A CHECKPOINT of a group no member wrote since its last checkpoint: none was taken. */
        IDLE
    }

    /**
     * The outcome of {@link #tag}.
     *
     * @param status how it ended
     * @param group the group
     * @param name the tag name
     * @param kind the tag kind
     * @param tagId the tag id
     * @param time the tag time (sent in TAG_PREPARE)
     * @param disks per member agent, the disks it reported held
     * @param message empty when TAGGED without notes; otherwise why, and agents' notes
     * @param hold from the first TAG_HELD received to the TAG_RELEASE sent: how long the coordinator
     *        kept writes held (each agent's own hold is bounded by the hold bound)
     */
    public record Outcome(Status status, GroupId group, String name, TagKind kind, UUID tagId, Instant time,
                          Map<String, List<DiskId>> disks, String message, Duration hold) {
        public boolean ok() {
            return status == Status.TAGGED;
        }

        /** One or two lines for an operator. */
        public String summary() {
            String head = switch (status) {
                case TAGGED -> "Tagged " + group + " '" + name + "' (" + kind + ", id " + tagId + ") on " + disks.size()
                        + " agent(s) " + disks + "; writes held " + hold.toNanos() / 1000 + " µs";
                case REFUSED -> "Tag '" + name + "' of " + group + " refused: ";
                case VOID -> "Tag '" + name + "' of " + group + " void (no recovery point will be listed): ";
                case UNCONFIRMED -> "Tag '" + name + "' of " + group + " unconfirmed: ";
                case IDLE -> "No checkpoint of " + group + ": ";
            };
            return status == Status.TAGGED ? head + (message.isEmpty() ? "" : System.lineSeparator() + "  " + message)
                    : head + message;
        }
    }

    private final Clock clock;
    private volatile Duration hold = Duration.ofMillis(2000);
    private volatile Duration prepareTimeout = Duration.ofSeconds(60);
    private final int recentNames;

    /** group -> agent -> disks (from DISK_INFO). Guarded by this. */
    private final Map<GroupId, Map<String, Set<DiskId>>> membership = new TreeMap<>();
    /** disk -> group, to move a disk that changed groups. Guarded by this. */
    private final Map<DiskId, GroupId> groupOf = new HashMap<>();
    /** Connected members by agent. */
    private final ConcurrentHashMap<String, Member> connected = new ConcurrentHashMap<>();
    /** Running tags by id. */
    private final ConcurrentHashMap<UUID, Round> rounds = new ConcurrentHashMap<>();
    /** Groups with a running tag. */
    private final Set<GroupId> busy = ConcurrentHashMap.newKeySet();
    /** Per group, the last names. Guarded by itself. */
    private final Map<GroupId, ArrayDeque<String>> recent = new HashMap<>();

    public GroupCoordinator(Clock clock, int recentNames) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (recentNames < 1) {
            throw new IllegalArgumentException("recentNames must be >= 1, was " + recentNames);
        }
        this.recentNames = recentNames;
    }

    /**
     * Sets the hold bound sent in TAG_PREPARE (1 ms .. 60 s; each agent caps it with its own
     * {@code tagHoldMillis}) and how long member agents may take to answer it (their pre-freeze
     * hooks run first).
     */
    public void settings(Duration holdBound, Duration prepare) {
        if (holdBound.toMillis() < 1 || holdBound.toMillis() > WireProtocol.MAX_TAG_HOLD_MILLIS) {
            throw new IllegalArgumentException("tag hold must be 1.." + WireProtocol.MAX_TAG_HOLD_MILLIS + " ms, was "
                    + holdBound.toMillis());
        }
        if (prepare.toMillis() < 1) {
            throw new IllegalArgumentException("prepare timeout must be positive, was " + prepare);
        }
        this.hold = holdBound;
        this.prepareTimeout = prepare;
    }

    public Duration holdBound() {
        return hold;
    }

    // ------------------------------------------------------------------ checkpoints of groups spanning agents

    private java.util.concurrent.ScheduledExecutorService checkpoints;
    private java.util.concurrent.ExecutorService checkpointWork;

    /**
     * Every {@code interval}, each group whose disks belong to two or more agents, all connected,
     * gets a coordinated CHECKPOINT (crash-consistent across its machines) unless no member wrote
     * since the last one; agents then take no checkpoints of their own for it. Zero stops them.
     */
    public synchronized void checkpointEvery(Duration interval) {
        if (checkpoints != null) {
            checkpoints.shutdownNow();
            checkpointWork.shutdown();
            checkpoints = null;
            checkpointWork = null;
        }
        if (interval.isZero()) {
            return;
        }
        if (interval.toMillis() < 100 || interval.toMillis() > 3_600_000) {
            throw new IllegalArgumentException("group checkpoint interval must be 100..3600000 ms or 0 (none), was "
                    + interval.toMillis());
        }
        checkpoints = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> daemon(r,
                "secondsite-ps-group-checkpoints"));
        java.util.concurrent.ExecutorService work = java.util.concurrent.Executors.newCachedThreadPool(r -> daemon(r,
                "secondsite-ps-group-checkpoint"));
        checkpointWork = work;
        checkpoints.scheduleAtFixedRate(() -> {
            for (GroupId g : spanningGroups()) {
                if (!busy.contains(g)) {
                    try {
                        work.execute(() -> tag(g, CHECKPOINT_NAME, TagKind.CHECKPOINT));
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        return; // stopping
                    }
                }
            }
        }, interval.toNanos(), interval.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The name of coordinated CHECKPOINT tags (the agents' own carry the same). */
    public static final String CHECKPOINT_NAME = "checkpoint";

    /** Groups with disks on two or more agents, all of them connected. */
    synchronized List<GroupId> spanningGroups() {
        List<GroupId> out = new ArrayList<>();
        for (Map.Entry<GroupId, Map<String, Set<DiskId>>> e : membership.entrySet()) {
            if (e.getValue().size() >= 2 && connected.keySet().containsAll(e.getValue().keySet())) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** Stops the checkpoints. */
    public void close() {
        checkpointEvery(Duration.ZERO);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ------------------------------------------------------------------ membership

    /** A disk's DISK_INFO (or one recovered from the state file at start). */
    public synchronized void disk(String agent, DiskId disk, GroupId group) {
        GroupId old = groupOf.put(disk, group);
        if (old != null && !old.equals(group)) {
            Map<String, Set<DiskId>> agents = membership.get(old);
            if (agents != null) {
                for (Set<DiskId> ds : agents.values()) {
                    ds.remove(disk);
                }
                agents.values().removeIf(Set::isEmpty);
                if (agents.isEmpty()) {
                    membership.remove(old);
                }
            }
        }
        membership.computeIfAbsent(group, g -> new TreeMap<>()).computeIfAbsent(agent, a -> new TreeSet<>()).add(disk);
    }

    /** An agent connected with capability {@code tag.coordination}. */
    public void connected(Member m) {
        connected.put(m.agent(), m);
    }

    /** An agent's connection ended: running tags waiting for it end refused. */
    public void disconnected(Member m) {
        if (connected.remove(m.agent(), m)) {
            for (Round r : rounds.values()) {
                r.gone(m.agent());
            }
        }
    }

    /** The agents connected now with capability {@code tag.coordination}, ascending. */
    public List<String> connectedAgents() {
        return List.copyOf(new TreeSet<>(connected.keySet()));
    }

    /** The groups and, per group, the agents with disks in it and those disks. */
    public synchronized Map<GroupId, Map<String, List<DiskId>>> groups() {
        Map<GroupId, Map<String, List<DiskId>>> out = new TreeMap<>();
        for (Map.Entry<GroupId, Map<String, Set<DiskId>>> g : membership.entrySet()) {
            Map<String, List<DiskId>> agents = new TreeMap<>();
            g.getValue().forEach((a, ds) -> agents.put(a, List.copyOf(ds)));
            out.put(g.getKey(), agents);
        }
        return out;
    }

    /** A TAG_HELD, TAG_REFUSED or TAG_DONE from {@code agent}. */
    public void received(String agent, Message m) {
        UUID id = m instanceof Message.TagHeld h ? h.tagId() : m instanceof Message.TagRefused r ? r.tagId()
                : m instanceof Message.TagDone d ? d.tagId() : null;
        if (id == null) {
            throw new IllegalArgumentException("not a tag answer: " + m.type());
        }
        Round r = rounds.get(id);
        if (r == null) {
            LOG.log(Level.DEBUG, "coordinator: late " + m.type() + " of tag " + id + " from " + agent + " ignored");
            return;
        }
        r.answer(agent, m);
    }

    // ------------------------------------------------------------------ a tag

    /**
     * Tags every disk of {@code group} on every member agent at one moment. Blocks at most the
     * prepare timeout plus twice the hold bound. Never throws for bad input: refusals are outcomes.
     */
    public Outcome tag(GroupId group, String name, TagKind kind) {
        UUID id = UUID.randomUUID();
        Instant time = clock.instant();
        Objects.requireNonNull(group, "group");
        ConsistencyTag tag;
        try {
            tag = new ConsistencyTag(id, name, kind, time);
        } catch (NullPointerException | IllegalArgumentException e) {
            return refused(group, name, kind, id, time, "tag name '" + name + "' or kind " + kind + " is not valid: "
                    + e.getMessage());
        }
        if (kind == TagKind.PLANNED_FAILOVER) {
            return refused(group, name, kind, id, time, "a planned failover's tag is not taken through the coordinator");
        }
        Map<String, Set<DiskId>> members;
        synchronized (this) {
            Map<String, Set<DiskId>> m = membership.get(group);
            members = m == null ? Map.of() : new TreeMap<>(m);
        }
        if (members.isEmpty()) {
            return refused(group, name, kind, id, time, "no agent of this process server has a disk in group " + group
                    + " (groups: " + groups().keySet() + ")");
        }
        List<String> missing = new ArrayList<>();
        Map<String, Member> links = new LinkedHashMap<>();
        for (Map.Entry<String, Set<DiskId>> e : members.entrySet()) {
            Member l = connected.get(e.getKey());
            if (l == null) {
                missing.add(e.getKey() + " " + e.getValue());
            } else {
                links.put(e.getKey(), l);
            }
        }
        if (!missing.isEmpty()) {
            return refused(group, name, kind, id, time, "member agent(s) not connected with capability "
                    + WireProtocol.CAPABILITY_TAG_COORDINATION + ": " + String.join(", ", missing));
        }
        if (kind != TagKind.CHECKPOINT) {
            synchronized (recent) {
                ArrayDeque<String> names = recent.get(group);
                if (names != null && names.contains(name)) {
                    return refused(group, name, kind, id, time, "tag name '" + name + "' clashes with a recent tag of "
                            + "group " + group + " (the last " + recentNames + " names of a group must differ); choose "
                            + "another name");
                }
            }
        }
        if (!busy.add(group)) {
            return refused(group, name, kind, id, time, "another tag of group " + group + " is in progress");
        }
        Round round = new Round(links.keySet());
        rounds.put(id, round);
        try {
            return run(round, links, group, tag);
        } finally {
            rounds.remove(id);
            busy.remove(group);
        }
    }

    private Outcome run(Round round, Map<String, Member> links, GroupId group, ConsistencyTag tag) {
        Duration bound = hold;
        Message.TagPrepare prepare = new Message.TagPrepare(group, tag, (int) bound.toMillis());
        long start = System.nanoTime();
        for (Member l : links.values()) {
            l.send(prepare);
        }
        boolean commit;
        String why;
        long releasedAt;
        synchronized (round) {
            long deadline = start + prepareTimeout.toNanos();
            while (true) {
                if (!round.refusals.isEmpty()) {
                    commit = false;
                    why = "refused by " + round.refusals;
                    break;
                }
                long now = System.nanoTime();
                // commit only within 3/4 of the bound after the first TAG_HELD: the rest is for the
                // TAG_RELEASE to reach the agents before their own bound ends the hold
                long until = round.firstHeld == 0 ? deadline
                        : Math.min(deadline, round.firstHeld + bound.toNanos() / 4 * 3);
                // the bound first: a last TAG_HELD after the first holder's bound passed must not commit
                if (round.held.size() == round.agents.size() && now - until < 0) {
                    commit = tag.kind() != TagKind.CHECKPOINT || round.written;
                    why = commit ? "" : "no member wrote since the last checkpoint";
                    break;
                }
                if (now - until >= 0) {
                    commit = false;
                    List<String> silent = new ArrayList<>(round.agents);
                    silent.removeAll(round.held.keySet());
                    why = round.firstHeld == 0 ? "no answer to TAG_PREPARE within " + prepareTimeout.toMillis()
                            + " ms from " + silent : "not every member held within 3/4 of the hold bound of "
                            + bound.toMillis() + " ms after the first: no answer from " + silent;
                    break;
                }
                round.awaitNanos(until - now);
            }
            releasedAt = System.nanoTime();
        }
        Message.TagRelease release = new Message.TagRelease(tag.id(), commit);
        for (Member l : links.values()) {
            l.send(release); // also to agents that did not answer: a late hold of theirs is cancelled
        }
        Map<String, List<DiskId>> disks = round.heldDisks();
        Duration held = Duration.ofNanos(round.firstHeldNanos() == 0 ? 0 : releasedAt - round.firstHeldNanos());
        if (!commit) {
            // wait (bounded) until the agents that held have let go: a next tag of the group then finds them free
            synchronized (round) {
                long deadline = System.nanoTime() + bound.toNanos() + 1_000_000_000L;
                while (round.heldAnswered() < round.held.size() && round.gone.isEmpty()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    round.awaitNanos(left);
                }
            }
            Status status = round.idle() ? Status.IDLE : Status.REFUSED;
            LOG.log(tag.kind() == TagKind.CHECKPOINT ? Level.DEBUG : Level.WARNING, "coordinated tag '" + tag.name()
                    + "' of group " + group + " " + status + ": " + why);
            return new Outcome(status, group, tag.name(), tag.kind(), tag.id(), tag.time(), Map.of(), why, held);
        }
        // wait for every agent's TAG_DONE: it says whether the tag entered its streams
        synchronized (round) {
            long deadline = System.nanoTime() + bound.toNanos() + prepareTimeout.toNanos();
            while (round.answeredAfterRelease() < round.agents.size() && round.gone.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                round.awaitNanos(left);
            }
        }
        List<String> notInserted = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<String> unconfirmed = new ArrayList<>();
        synchronized (round) {
            for (String a : round.agents) {
                Message.TagDone d = round.done.get(a);
                if (d == null) {
                    String late = round.lateRefusals.get(a);
                    if (late != null) {
                        notInserted.add(a + ": " + late);
                    } else {
                        unconfirmed.add(a);
                    }
                } else if (!d.inserted()) {
                    notInserted.add(a + ": " + d.text());
                } else if (!d.text().isEmpty()) {
                    notes.add(a + ": " + d.text());
                }
            }
        }
        Status status;
        String message;
        if (!notInserted.isEmpty()) {
            status = Status.VOID;
            message = "not inserted by " + notInserted;
        } else if (!unconfirmed.isEmpty()) {
            status = Status.UNCONFIRMED;
            message = "no TAG_DONE from " + unconfirmed + "; the point is listed only if they inserted the tag";
        } else {
            status = Status.TAGGED;
            message = String.join("; ", notes);
            if (tag.kind() != TagKind.CHECKPOINT) {
                synchronized (recent) {
                    ArrayDeque<String> names = recent.computeIfAbsent(group, g -> new ArrayDeque<>());
                    names.addLast(tag.name());
                    while (names.size() > recentNames) {
                        names.pollFirst();
                    }
                }
            }
        }
        LOG.log(status == Status.TAGGED ? Level.INFO : Level.WARNING, "coordinated tag '" + tag.name() + "' ("
                + tag.id() + ") of group " + group + ": " + status + (message.isEmpty() ? "" : ", " + message));
        return new Outcome(status, group, tag.name(), tag.kind(), tag.id(), tag.time(), disks, message, held);
    }

    private Outcome refused(GroupId group, String name, TagKind kind, UUID id, Instant time, String why) {
        LOG.log(kind == TagKind.CHECKPOINT ? Level.DEBUG : Level.WARNING, "coordinated tag '" + name + "' of group " + group + " refused: " + why);
        return new Outcome(Status.REFUSED, group, name, kind, id, time, Map.of(), why, Duration.ZERO);
    }

    /** The answers of one tag. Guarded by itself. */
    private static final class Round {
        final Set<String> agents;
        final Map<String, List<DiskId>> held = new TreeMap<>();
        final Map<String, String> refusals = new TreeMap<>();
        final Map<String, String> lateRefusals = new TreeMap<>();
        final Map<String, Message.TagDone> done = new TreeMap<>();
        final Set<String> gone = new TreeSet<>();
        long firstHeld;
        boolean released;
        /** Whether a member reported writes since the group's last checkpoint. */
        boolean written;

        Round(Set<String> agents) {
            this.agents = new TreeSet<>(agents);
        }

        synchronized void answer(String agent, Message m) {
            if (!agents.contains(agent)) {
                return;
            }
            if (m instanceof Message.TagHeld h) {
                if (firstHeld == 0) {
                    firstHeld = System.nanoTime();
                }
                held.put(agent, h.disks());
                written |= h.written();
            } else if (m instanceof Message.TagRefused r) {
                if (held.containsKey(agent)) {
                    lateRefusals.put(agent, r.text()); // its hold expired: released by itself, nothing inserted
                }
                if (!released()) {
                    refusals.put(agent, r.text());
                }
            } else if (m instanceof Message.TagDone d) {
                done.put(agent, d);
            }
            notifyAll();
        }

        private boolean released() {
            return released;
        }

        synchronized void gone(String agent) {
            if (agents.contains(agent)) {
                gone.add(agent);
                if (!held.containsKey(agent) || !released) {
                    refusals.put(agent, "disconnected");
                }
                notifyAll();
            }
        }

        /** Agents that held and since answered TAG_RELEASE or released by themselves. */
        synchronized int heldAnswered() {
            int n = 0;
            for (String a : held.keySet()) {
                if (done.containsKey(a) || lateRefusals.containsKey(a)) {
                    n++;
                }
            }
            return n;
        }

        /** All members held and none had written (a CHECKPOINT then is skipped). */
        synchronized boolean idle() {
            return held.size() == agents.size() && refusals.isEmpty() && !written;
        }

        synchronized long firstHeldNanos() {
            return firstHeld;
        }

        /** Agents that answered the TAG_RELEASE, or whose hold expired (a late TAG_REFUSED). */
        synchronized int answeredAfterRelease() {
            Set<String> a = new TreeSet<>(done.keySet());
            a.addAll(lateRefusals.keySet());
            return a.size();
        }

        synchronized Map<String, List<DiskId>> heldDisks() {
            released = true;
            return new TreeMap<>(held);
        }

        /** Waits (this's monitor held) at most {@code nanos}. */
        void awaitNanos(long nanos) {
            try {
                long ms = Math.max(1, nanos / 1_000_000);
                wait(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for tag answers", e);
            }
        }
    }
}
