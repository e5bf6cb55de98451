package org.secondsite.mastertarget.internal.retention;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.api.storage.ObjectStore;

/**
 * History of the replicas: the undo journal, the catalogue of recovery points, pruning and
 * point views, for the master target's apply path. The applier calls, per group commit:
 * {@link #beginGroup}, {@link #journal} for each overwrite of a journaling group,
 * {@link #sync} before writing the replicas, {@link #commitTags} before persisting the state
 * (which includes {@link #save}), then {@link #committed}. docs/JOURNAL.md explains why this
 * order keeps every listed point recoverable after a crash at any instant.
 *
 * <p>Locks: the master target may call in while holding its own lock; this class never calls
 * back into the master target. Inside, this object's monitor is taken before the journal's,
 * and the journal's before a view's write lock.
 */
public final class Retention implements Closeable {
    private static final System.Logger LOG = System.getLogger(Retention.class.getName());
    /** The object namespace of the journal. */
    public static final String NAMESPACE = RetentionJournal.NAMESPACE;
    static final String END_KEY = "@journal.end";
    static final String CUT_PREFIX = "@journal.cut.";
    /** Default journal segment size. */
    public static final long SEGMENT_BYTES = 32L << 20;

    private final RetentionJournal journal;
    private final PointCatalogue catalogue;
    private volatile RetentionSettings settings;
    private final Map<Long, Integer> pins = new HashMap<>();
    private int openViews;
    /** Ranges already journaled in the current group commit, per disk (start -> end, merged). Applier only. */
    private final Map<DiskId, TreeMap<Long, Long>> covered = new HashMap<>();

    private Retention(RetentionJournal journal, PointCatalogue catalogue, RetentionSettings settings) {
        this.journal = journal;
        this.catalogue = catalogue;
        this.settings = settings;
    }

    /**
     * Opens the journal of {@code store}, rolling uncommitted entries back onto the replicas,
     * and the catalogue. Persist the state ({@link #save}) before applying anything.
     */
    public static Retention open(ObjectStore store, Properties state, Function<DiskId, BlockDevice> volumes,
                                 RetentionSettings settings, long segmentBytes) throws IOException {
        RetentionJournal.Position end = RetentionJournal.Position.START;
        Map<Long, Long> cuts = new TreeMap<>();
        for (String key : state.stringPropertyNames()) {
            try {
                if (key.equals(END_KEY)) {
                    end = RetentionJournal.Position.parse(state.getProperty(key));
                } else if (key.startsWith(CUT_PREFIX)) {
                    cuts.put(Long.parseLong(key.substring(CUT_PREFIX.length())), Long.parseLong(state.getProperty(key)));
                }
            } catch (RuntimeException e) {
                throw new IOException("master target state '" + key + "=" + state.getProperty(key)
                        + "' is not a journal position: " + e.getMessage(), e);
            }
        }
        RetentionJournal j = RetentionJournal.open(store, segmentBytes, end, cuts, volumes);
        return new Retention(j, PointCatalogue.load(state, j.pointRecords()), settings);
    }

    /** Whether state keys belong to retention (not to a disk). */
    public static boolean isRetentionKey(String key) {
        return key.startsWith("@");
    }

    /** Writes the journal's end (everything appended, synced by now), cuts and the catalogue's pending tags. */
    public synchronized void save(Properties state) {
        state.setProperty(END_KEY, journal.end().toString());
        for (Map.Entry<Long, Long> c : journal.cuts().entrySet()) {
            state.setProperty(CUT_PREFIX + c.getKey(), Long.toString(c.getValue()));
        }
        catalogue.save(state);
    }

    public RetentionJournal journal() {
        return journal;
    }

    // ------------------------------------------------------------------ applying

    /** Whether overwrites of a group's disks must be journaled (it has a point or a pending tag). */
    public synchronized boolean journaling(GroupId group) {
        return catalogue.journaling(group);
    }

    /** Starts a group commit: ranges journaled once in it are not journaled again. */
    public void beginGroup() {
        covered.clear();
    }

    /**
     * Journals the current content of the parts of {@code [offset, offset+length)} not journaled
     * yet in this group commit. Call for every WRITE, ZERO and TRIM of a journaling group, before
     * any replica write of the group.
     */
    public void journal(DiskId disk, long sequence, long offset, long length, BlockDevice replica) throws IOException {
        TreeMap<Long, Long> set = covered.computeIfAbsent(disk, d -> new TreeMap<>());
        long end = offset + length;
        long pos = offset;
        Map.Entry<Long, Long> f = set.floorEntry(pos);
        if (f != null && f.getValue() > pos) {
            pos = f.getValue();
        }
        while (pos < end) {
            Map.Entry<Long, Long> n = set.ceilingEntry(pos);
            long gapEnd = n == null ? end : Math.min(end, n.getKey());
            if (gapEnd > pos) {
                journal.journal(disk, sequence, pos, gapEnd - pos, replica);
            }
            if (n == null || n.getKey() >= end) {
                break;
            }
            pos = n.getValue();
        }
        // merge [offset, end) into the set
        long from = offset;
        long to = end;
        Map.Entry<Long, Long> lo = set.floorEntry(from);
        if (lo != null && lo.getValue() >= from) {
            from = lo.getKey();
            to = Math.max(to, lo.getValue());
        }
        Map.Entry<Long, Long> hi;
        while ((hi = set.ceilingEntry(from)) != null && hi.getKey() <= to) {
            to = Math.max(to, hi.getValue());
            set.remove(hi.getKey());
        }
        set.put(from, to);
    }

    /** Writes and syncs the journal: after this the group's replica writes may start. */
    public void sync() throws IOException {
        journal.sync();
    }

    /**
     * Tags of batches being committed: appends the records of the points they complete and
     * syncs. Call after the replica writes and before persisting the state; then
     * {@link #committed} once the state is durable.
     */
    public synchronized Commit commitTags(List<PointCatalogue.TagSeen> seen, Function<GroupId, Set<DiskId>> members)
            throws IOException {
        PointCatalogue.Prepared p = catalogue.prepare(seen, members);
        Map<Long, Long> segmentOf = new HashMap<>();
        for (PointCatalogue.Point point : p.points()) {
            journal.appendPoint(point.number(), PointCatalogue.payload(point));
            segmentOf.put(point.number(), journal.currentSegment()); // a roll happens before the record is staged
        }
        journal.sync();
        // the pending set goes into the state written next
        PointCatalogue.Prepared installNow = new PointCatalogue.Prepared(p.pending(), List.of());
        catalogue.install(installNow, Map.of());
        return new Commit(p, segmentOf);
    }

    /** Points made by a commit, listed by {@link #committed}. */
    public record Commit(PointCatalogue.Prepared prepared, Map<Long, Long> segmentOf) {
    }

    /** The state written after {@link #commitTags} is durable: the points are listed. */
    public synchronized void committed(Commit c) {
        journal.committed(journal.end());
        if (c != null) {
            catalogue.install(new PointCatalogue.Prepared(c.prepared().pending(), c.prepared().points()), c.segmentOf());
            for (PointCatalogue.Point p : c.prepared().points()) {
                LOG.log(Level.DEBUG, "recovery point " + p.point().id() + " listed");
            }
        }
    }

    // ------------------------------------------------------------------ points, views

    public synchronized List<RecoveryPoint> points(Optional<GroupId> group) {
        return catalogue.list(group);
    }

    /** @throws UnknownPointException if the id is not listed */
    public synchronized PointDetail point(String id) {
        PointCatalogue.Point p = catalogue.get(id);
        return PointDetail.of(p.point(), p.sequences());
    }

    /**
     * A read-only view of {@code disk} at a listed point; it pins the point (pruning stops at it)
     * until closed.
     *
     * @throws UnknownPointException if the id is not listed
     * @throws IllegalArgumentException if the disk is not a member of the point
     */
    public synchronized PointView openView(String id, DiskId disk, BlockDevice replica, long size) {
        PointCatalogue.Point p = catalogue.get(id);
        Long seq = p.sequences().get(disk);
        if (seq == null) {
            throw new IllegalArgumentException("disk " + disk + " is not part of recovery point '" + id
                    + "' (its disks: " + new TreeMap<>(p.sequences()).keySet() + ")");
        }
        long number = p.number();
        pins.merge(number, 1, Integer::sum);
        openViews++;
        return journal.openView(disk, seq, replica, size, () -> unpin(number));
    }

    private synchronized void unpin(long number) {
        pins.computeIfPresent(number, (k, v) -> v == 1 ? null : v - 1);
        openViews--;
    }

    // ------------------------------------------------------------------ retention

    public RetentionSettings settings() {
        return settings;
    }

    /** New settings, in force from the next prune. */
    public void settings(RetentionSettings s) {
        settings = java.util.Objects.requireNonNull(s, "settings");
    }

    public synchronized RetentionStatus status() {
        return new RetentionStatus(settings, journal.usedBytes(), journal.segments().size(), catalogue.size(),
                catalogue.list(Optional.empty()).stream().findFirst(),
                catalogue.newestByTime().map(PointCatalogue.Point::point), openViews);
    }

    /** What a prune decided: points were dropped (persist the state), segments before {@code keepFrom} may go. */
    public record PrunePlan(int droppedPoints, int droppedPending, long keepFrom) {
        /** Whether the catalogue changed: persist the state before deleting segments. */
        public boolean changed() {
            return droppedPoints > 0 || droppedPending > 0;
        }

    }

    /**
     * Drops points older than the window, then, while the journal exceeds the space cap, the
     * oldest points, never a point pinned by an open view (pruning stops there). Persist the
     * state if points were dropped, then call {@link #deleteSegments}.
     */
    public PrunePlan planPrune(Instant now) {
        return planPrune(now, settings.capBytes());
    }

    /** {@link #planPrune(Instant)} with an explicit cap (tests use caps below the configurable minimum). */
    synchronized PrunePlan planPrune(Instant now, long capBytes) {
        RetentionSettings s = settings;
        int dropped = 0;
        Instant cutoff = now.minus(s.window());
        Optional<PointCatalogue.Point> oldest;
        while ((oldest = catalogue.oldest()).isPresent() && oldest.get().point().time().isBefore(cutoff)
                && !pins.containsKey(oldest.get().number())) {
            catalogue.dropOldest();
            dropped++;
        }
        long used = journal.usedBytes();
        while (used > capBytes) {
            long keep = neededSegment();
            long freed = 0;
            for (Map.Entry<Long, Long> e : journal.segments().headMap(Math.min(keep, journal.currentSegment()), false)
                    .entrySet()) {
                freed += e.getValue();
            }
            if (used - freed <= capBytes) {
                break;
            }
            oldest = catalogue.oldest();
            if (oldest.isEmpty() || pins.containsKey(oldest.get().number())) {
                break;
            }
            PointCatalogue.Point gone = catalogue.dropOldest();
            dropped++;
            LOG.log(Level.INFO, "retention: space cap of " + capBytes + " bytes reached, dropped recovery point "
                    + gone.point().id());
        }
        int pendingDropped = catalogue.dropPendingBefore(cutoff);
        return new PrunePlan(dropped, pendingDropped, neededSegment());
    }

    /** Deletes the segments no listed point needs; returns the bytes freed. */
    public long deleteSegments(PrunePlan plan) throws IOException {
        long keep;
        synchronized (this) {
            keep = Math.min(plan.keepFrom(), neededSegment()); // a point listed meanwhile keeps its segments
        }
        return journal.deleteBefore(keep);
    }

    /** The oldest segment a listed point needs: its record's, or that of the first entry after it on a disk. */
    private long neededSegment() {
        long keep = journal.currentSegment();
        for (PointCatalogue.Point p : catalogue.all()) {
            if (p.segment() >= 0) {
                keep = Math.min(keep, p.segment());
            }
            for (Map.Entry<DiskId, Long> e : p.sequences().entrySet()) {
                keep = Math.min(keep, journal.firstSegmentAfter(e.getKey(), e.getValue()));
            }
        }
        return keep;
    }

    @Override
    public void close() throws IOException {
        journal.close();
    }
}
