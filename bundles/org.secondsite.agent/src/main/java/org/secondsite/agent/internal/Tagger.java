package org.secondsite.agent.internal;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.wire.Message;

/**
 * Application-consistent and named tags of a consistency group, with hooks, and this agent's part
 * of cross-machine tags coordinated by the process server. Plain Java.
 *
 * <h2>A tag of this agent's group ({@link #tag})</h2>
 * For an APPLICATION tag: the pre-freeze hooks run in order (each {@code /bin/sh -c command} with
 * {@code SECONDSITE_TAG}, {@code SECONDSITE_TAG_ID}, {@code SECONDSITE_GROUP} and
 * {@code SECONDSITE_PHASE} in its environment, killed with every process it started at the
 * timeout), then {@code fsfreeze --freeze} of each configured mount; then the tag enters the stream
 * of every disk of the group at one moment ({@link Agent#insertTag}: microseconds under the
 * agent's lock, no write accepted in between); then, always, {@code fsfreeze --unfreeze} of every
 * mount a freeze was tried on (also one that failed or timed out) and the post-thaw hooks. A
 * failing pre-freeze hook or freeze refuses the tag; a failing post-thaw hook is reported. BOOKMARK
 * tags skip hooks and freezing. A name among the group's last {@code recentNames} tag names, an
 * unknown group, a group that cannot be consistent now (the tag would be dropped) and a second tag
 * of a group while one runs are refused.
 *
 * <h2>A coordinated tag (TAG_PREPARE / TAG_RELEASE, docs/PROTOCOL.md §7)</h2>
 * On TAG_PREPARE: hooks and freeze as above (APPLICATION), then the group's writes are held
 * ({@link Agent#hold}: {@code accept} of its disks waits) and TAG_HELD answers. On TAG_RELEASE
 * with commit the tag is sealed into every held disk, then the writes go on; without commit they
 * go on with no tag. If no TAG_RELEASE came within the hold bound (the smaller of the
 * TAG_PREPARE's and {@link TagOptions#hold()}), the agent releases by itself, inserts nothing and
 * answers TAG_REFUSED: the tag is void. Thawing follows the release in every case.
 */
public final class Tagger implements Closeable {
    private static final System.Logger LOG = System.getLogger(Tagger.class.getName());
    /** Coordinated tags released before their hold began, remembered at most. */
    private static final int CANCELLED_MAX = 1024;

    private final Agent agent;
    private final TagOptions options;
    private final Clock clock;
    private final ExecutorService work;
    private final ScheduledExecutorService timers;
    /** Groups with a tag in progress (hooks, freeze, hold, thaw). */
    private final Set<GroupId> busy = ConcurrentHashMap.newKeySet();
    /** Per group, the last names (guarded by itself). */
    private final Map<GroupId, ArrayDeque<String>> recent = new HashMap<>();
    /** Coordinated tags whose writes are held. */
    private final ConcurrentHashMap<UUID, Coordinated> active = new ConcurrentHashMap<>();
    /** Coordinated tags released (not committed) before they were held. Guarded by itself. */
    private final ArrayDeque<UUID> cancelled = new ArrayDeque<>();

    public Tagger(Agent agent, TagOptions options, Clock clock) {
        this.agent = agent;
        this.options = options;
        this.clock = clock;
        this.work = Executors.newCachedThreadPool(r -> daemon(r, "secondsite-agent-tagger"));
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "secondsite-agent-tag-holds"));
        agent.coordination(this::onMessage);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public TagOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ a tag of this agent's group

    /**
     * Tags every disk of {@code group} on this agent (see the class comment). Blocks while the hooks
     * run (each at most {@link TagOptions#hookTimeout()}).
     *
     * @param kind {@link TagKind#APPLICATION} (hooks and freeze) or {@link TagKind#BOOKMARK} (none)
     */
    public TagResult tag(GroupId group, String name, TagKind kind) {
        UUID id = UUID.randomUUID();
        Instant asked = clock.instant();
        if (kind != TagKind.APPLICATION && kind != TagKind.BOOKMARK) {
            return refused(group, name, kind, id, asked, "tag kind " + kind + " cannot be asked for: use APPLICATION "
                    + "(hooks, freeze) or BOOKMARK (no hooks); checkpoints are taken by the agent itself", List.of());
        }
        String invalid = nameProblem(name);
        if (!invalid.isEmpty()) {
            return refused(group, name, kind, id, asked, invalid, List.of());
        }
        String why = agent.tagRefusal(group);
        if (!why.isEmpty()) {
            return refused(group, name, kind, id, asked, why, List.of());
        }
        String clash = clash(group, name);
        if (!clash.isEmpty()) {
            return refused(group, name, kind, id, asked, clash, List.of());
        }
        if (!busy.add(group)) {
            return refused(group, name, kind, id, asked, "another tag of group " + group + " is in progress on this agent; "
                    + "try again when it ends", List.of());
        }
        Quiesce q = new Quiesce(group, name, id, kind == TagKind.APPLICATION);
        try {
            String failed = q.freeze();
            Agent.Insertion ins = null;
            ConsistencyTag tag = null;
            if (failed.isEmpty()) {
                try {
                    tag = new ConsistencyTag(id, name, kind, clock.instant());
                    ins = agent.insertTag(group, tag);
                    if (!ins.ok()) {
                        failed = ins.refusal();
                    }
                } catch (IOException | RuntimeException e) {
                    failed = "inserting the tag failed: " + e.getMessage();
                }
            }
            String thawNotes = q.thaw();
            if (!failed.isEmpty()) {
                return refused(group, name, kind, id, tag == null ? asked : tag.time(), failed
                        + (thawNotes.isEmpty() ? "" : "; " + thawNotes), q.runs);
            }
            remember(group, name);
            String notes = join(q.notes, thawNotes);
            LOG.log(Level.INFO, "tag '" + name + "' (" + kind + ", " + id + ") of group " + group + " on " + ins.disks()
                    + (notes.isEmpty() ? "" : "; " + notes));
            return new TagResult(TagResult.Status.TAGGED, group, name, kind, id, tag.time(), ins.disks(), notes,
                    Duration.ofNanos(ins.holdNanos()), q.runs);
        } finally {
            q.thaw(); // a no-op unless an unexpected error skipped it: never leave a filesystem frozen
            busy.remove(group);
        }
    }

    private TagResult refused(GroupId group, String name, TagKind kind, UUID id, Instant time, String why,
                              List<TagResult.HookRun> runs) {
        LOG.log(Level.WARNING, "tag '" + name + "' of group " + group + " refused: " + why);
        return new TagResult(TagResult.Status.REFUSED, group, name, kind, id, time, List.of(), why, Duration.ZERO, runs);
    }

    /** Why {@code name} is not a valid tag name, or empty. */
    static String nameProblem(String name) {
        try {
            new ConsistencyTag(UUID.randomUUID(), name, TagKind.BOOKMARK, Instant.EPOCH);
            return "";
        } catch (NullPointerException e) {
            return "a tag needs a name";
        } catch (IllegalArgumentException e) {
            return "tag name '" + name + "' is not valid: " + e.getMessage();
        }
    }

    /** Why {@code name} clashes with a recent tag of {@code group}, or empty. */
    private String clash(GroupId group, String name) {
        synchronized (recent) {
            ArrayDeque<String> names = recent.get(group);
            if (names != null && names.contains(name)) {
                return "tag name '" + name + "' clashes with a recent tag of group " + group + " (the last "
                        + options.recentNames() + " names of a group must differ); choose another name";
            }
            return "";
        }
    }

    private void remember(GroupId group, String name) {
        synchronized (recent) {
            ArrayDeque<String> names = recent.computeIfAbsent(group, g -> new ArrayDeque<>());
            names.addLast(name);
            while (names.size() > options.recentNames()) {
                names.pollFirst();
            }
        }
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + "; " + b;
    }

    // ------------------------------------------------------------------ hooks and freezing

    /** The hooks and freezes of one tag; {@link #thaw} undoes whatever {@link #freeze} started. */
    private final class Quiesce {
        final GroupId group;
        final String name;
        final UUID id;
        final boolean application;
        final List<TagResult.HookRun> runs = new ArrayList<>();
        /** Mounts a freeze was tried on (also failed or timed out ones: the kernel may have frozen them). */
        final List<Path> tried = new ArrayList<>();
        String notes = "";
        private boolean thawed;

        Quiesce(GroupId group, String name, UUID id, boolean application) {
            this.group = group;
            this.name = name;
            this.id = id;
            this.application = application;
        }

        private Map<String, String> env(String phase) {
            return Map.of("SECONDSITE_TAG", name, "SECONDSITE_TAG_ID", id.toString(), "SECONDSITE_GROUP",
                    group.value(), "SECONDSITE_PHASE", phase);
        }

        /** Runs the pre-freeze hooks and freezes the mounts; returns why it failed, or empty. */
        String freeze() {
            if (!application) {
                return "";
            }
            for (String c : options.preFreeze()) {
                TagResult.HookRun r = Hooks.shell("pre-freeze", c, env("pre-freeze"), options.hookTimeout());
                runs.add(r);
                if (!r.ok()) {
                    return "pre-freeze hook " + r.brief();
                }
            }
            if (options.freezeMounts().isEmpty()) {
                return "";
            }
            Optional<Path> fsfreeze = Hooks.find(options.fsfreeze());
            if (fsfreeze.isEmpty()) {
                notes = "'" + options.fsfreeze() + "' not found: " + options.freezeMounts() + " not frozen";
                return "";
            }
            for (Path m : options.freezeMounts()) {
                tried.add(m);
                TagResult.HookRun r = Hooks.run("freeze", List.of(fsfreeze.get().toString(), "--freeze", m.toString()),
                        "fsfreeze --freeze " + m, env("freeze"), options.hookTimeout());
                runs.add(r);
                if (!r.ok()) {
                    return "freeze of " + m + " failed: " + r.brief();
                }
            }
            return "";
        }

        /** Thaws every mount tried (in reverse) and runs the post-thaw hooks; returns notes on failures. */
        String thaw() {
            if (!application || thawed) {
                return "";
            }
            thawed = true;
            List<String> problems = new ArrayList<>();
            Optional<Path> fsfreeze = tried.isEmpty() ? Optional.empty() : Hooks.find(options.fsfreeze());
            for (int i = tried.size() - 1; i >= 0; i--) {
                Path m = tried.get(i);
                TagResult.HookRun r = Hooks.run("thaw", List.of(fsfreeze.map(Path::toString).orElse(options.fsfreeze()),
                        "--unfreeze", m.toString()), "fsfreeze --unfreeze " + m, env("thaw"), options.hookTimeout());
                runs.add(r);
                if (!r.ok() && !(i == tried.size() - 1 && lastFreezeFailed())) {
                    problems.add("thaw " + r.brief());
                    LOG.log(Level.ERROR, "tag '" + name + "' of group " + group + ": " + m + " may still be frozen: "
                            + r.brief());
                }
            }
            for (String c : options.postThaw()) {
                TagResult.HookRun r = Hooks.shell("post-thaw", c, env("post-thaw"), options.hookTimeout());
                runs.add(r);
                if (!r.ok()) {
                    problems.add("post-thaw hook " + r.brief());
                }
            }
            return String.join("; ", problems);
        }

        /** Whether the last freeze tried failed (its thaw then fails too: "not frozen", which is fine). */
        private boolean lastFreezeFailed() {
            for (int i = runs.size() - 1; i >= 0; i--) {
                if (runs.get(i).phase().equals("freeze")) {
                    return !runs.get(i).ok();
                }
            }
            return false;
        }
    }

    // ------------------------------------------------------------------ coordinated tags

    /** One coordinated tag whose writes are held. */
    private static final class Coordinated {
        final GroupId group;
        final ConsistencyTag tag;
        final Quiesce quiesce;
        final long heldAt = System.nanoTime();
        final long boundMillis;
        volatile ScheduledFuture<?> timer;

        Coordinated(GroupId group, ConsistencyTag tag, Quiesce quiesce, long boundMillis) {
            this.group = group;
            this.tag = tag;
            this.quiesce = quiesce;
            this.boundMillis = boundMillis;
        }
    }

    /** TAG_PREPARE and TAG_RELEASE from the agent's reader thread: handled on a worker, never blocking it. */
    void onMessage(Message m) {
        try {
            if (m instanceof Message.TagPrepare p) {
                work.execute(() -> prepare(p));
            } else if (m instanceof Message.TagRelease r) {
                release(r); // quick: the hold ends on the reader thread, thawing goes to a worker
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.log(Level.DEBUG, "tagger closed, " + m.type() + " ignored");
        }
    }

    private void prepare(Message.TagPrepare p) {
        UUID id = p.tag().id();
        GroupId group = p.group();
        boolean checkpoint = p.tag().kind() == TagKind.CHECKPOINT;
        if (checkpoint) {
            agent.coordinatedCheckpoint(group);
        }
        if (!busy.add(group)) {
            agent.sendControl(new Message.TagRefused(id, "another tag of group " + group + " is in progress on this agent"));
            return;
        }
        boolean handedOver = false;
        Quiesce q = new Quiesce(group, p.tag().name(), id, p.tag().kind() == TagKind.APPLICATION);
        try {
            String failed = q.freeze();
            if (failed.isEmpty() && wasCancelled(id)) {
                failed = "released by the process server before the hold began";
            }
            Agent.Insertion held = null;
            long bound = Math.min(p.holdMillis(), options.hold().toMillis());
            if (failed.isEmpty()) {
                held = agent.hold(group, id, Duration.ofMillis(bound));
                if (!held.ok()) {
                    failed = held.refusal();
                }
            }
            if (!failed.isEmpty()) {
                String notes = q.thaw();
                LOG.log(checkpoint ? Level.DEBUG : Level.WARNING, "coordinated tag '" + p.tag().name() + "' (" + id + ") of group " + group
                        + " refused: " + failed);
                agent.sendControl(new Message.TagRefused(id, join(failed, notes)));
                return;
            }
            Coordinated c = new Coordinated(group, p.tag(), q, bound);
            active.put(id, c);
            handedOver = true;
            c.timer = timers.schedule(() -> expire(id), bound, TimeUnit.MILLISECONDS);
            agent.sendControl(new Message.TagHeld(id, held.written(), held.disks()));
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "coordinated tag " + id + " of group " + group + ": " + e, e);
            if (!handedOver) {
                agent.sendControl(new Message.TagRefused(id, "agent error: " + e));
            }
        } finally {
            if (!handedOver) {
                q.thaw();
                busy.remove(group);
            }
        }
    }

    private boolean wasCancelled(UUID id) {
        synchronized (cancelled) {
            return cancelled.remove(id);
        }
    }

    /** The hold bound passed before TAG_RELEASE: release by ourselves, the tag is void. */
    private void expire(UUID id) {
        Coordinated c = active.remove(id);
        if (c == null) {
            return;
        }
        try {
            agent.release(c.group, id, null);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "releasing the hold of tag " + id + ": " + e);
        }
        long heldMicros = (System.nanoTime() - c.heldAt) / 1000;
        LOG.log(Level.WARNING, "coordinated tag '" + c.tag.name() + "' (" + id + ") of group " + c.group + ": no "
                + "TAG_RELEASE within " + c.boundMillis + " ms, writes released after " + heldMicros + " µs, tag void");
        finish(c, () -> new Message.TagRefused(id, "hold of " + c.boundMillis + " ms expired before TAG_RELEASE: writes "
                + "released by the agent after " + heldMicros + " µs, tag void"));
    }

    private void release(Message.TagRelease r) {
        UUID id = r.tagId();
        Coordinated c = active.remove(id);
        if (c == null) {
            if (!r.commit()) {
                synchronized (cancelled) {
                    cancelled.addLast(id);
                    while (cancelled.size() > CANCELLED_MAX) {
                        cancelled.pollFirst();
                    }
                }
            }
            agent.sendControl(new Message.TagDone(id, false, "tag " + id + " is not held by this agent (its hold "
                    + "expired, or it was never held)"));
            return;
        }
        ScheduledFuture<?> t = c.timer;
        if (t != null) {
            t.cancel(false);
        }
        boolean inserted;
        String note = "";
        try {
            inserted = agent.release(c.group, id, r.commit() ? c.tag : null) && r.commit();
        } catch (IOException | RuntimeException e) {
            inserted = false;
            note = "inserting the tag failed: " + e.getMessage();
        }
        long heldMicros = (System.nanoTime() - c.heldAt) / 1000;
        if (inserted && c.tag.kind() != TagKind.CHECKPOINT) {
            remember(c.group, c.tag.name());
        }
        boolean done = inserted;
        String n = join(note, "writes held " + heldMicros + " µs");
        finish(c, () -> new Message.TagDone(id, done, n));
    }

    /** Thaws on a worker, frees the group and sends the answer (with any thaw problems). */
    private void finish(Coordinated c, java.util.function.Supplier<Message> answer) {
        Runnable r = () -> {
            String notes;
            try {
                notes = c.quiesce.thaw();
            } finally {
                busy.remove(c.group);
            }
            Message m = answer.get();
            if (!notes.isEmpty()) {
                if (m instanceof Message.TagDone d) {
                    m = new Message.TagDone(d.tagId(), d.inserted(), join(d.text(), notes));
                } else if (m instanceof Message.TagRefused f) {
                    m = new Message.TagRefused(f.tagId(), join(f.text(), notes));
                }
            }
            agent.sendControl(m);
        };
        try {
            work.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            r.run(); // closing: thaw here, never leave a filesystem frozen
        }
    }

    /** The coordinated tags whose writes are held now (for tests and status). */
    public List<UUID> held() {
        return new ArrayList<>(active.keySet());
    }

    /** Releases every held coordinated tag (void) and thaws; then stops. */
    @Override
    public void close() {
        for (UUID id : new ArrayList<>(active.keySet())) {
            expire(id);
        }
        timers.shutdownNow();
        work.shutdown();
        try {
            work.awaitTermination(options.hookTimeout().toMillis() * 2 + 5000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
