package org.secondsite.mastertarget.internal.retention;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;

import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.PointKind;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.api.model.TagKind;

/**
 * The recovery points: made of tags when every member disk of the tag's group has committed
 * the batch carrying it (docs/JOURNAL.md). Tags seen on some members only are pending; they
 * are persisted with the replication state ({@link #save}). A listed point is persisted as a
 * point record in the journal, appended and synced before the state that commits it, so a
 * listed point is never lost; points are dropped oldest first ({@code @points.dropped}).
 *
 * <p>Not thread-safe: the caller ({@link Retention}) synchronizes.
 */
public final class PointCatalogue {
    private static final System.Logger LOG = System.getLogger(PointCatalogue.class.getName());
    static final String PENDING_PREFIX = "@tag.";
    static final String NEXT_KEY = "@points.next";
    static final String DROPPED_KEY = "@points.dropped";

    /** A listed point: its number (creation order), description, sequences and the segment of its record. */
    public record Point(long number, RecoveryPoint point, Map<DiskId, Long> sequences, long segment) {
    }

    /** A tag carried by a batch that has just been committed on {@code disk}. */
    public record TagSeen(DiskId disk, GroupId group, long sequence, ConsistencyTag tag) {
    }

    private record Pending(UUID id, GroupId group, TagKind kind, String name, Instant time, Set<DiskId> members,
                           Map<DiskId, Long> done) {
    }

    /** The outcome of {@link #prepare}, installed by {@link #install} once durable. */
    public record Prepared(Map<UUID, Pending> pending, List<Point> points) {
    }

    private final TreeMap<Long, Point> points = new TreeMap<>();
    private final Map<String, Long> byId = new HashMap<>();
    private final Map<GroupId, Integer> perGroup = new HashMap<>();
    private Map<UUID, Pending> pending = new LinkedHashMap<>();
    private long next = 1;
    private long dropped;

    /** Loads pending tags and counters from the state, and the points from the journal's point records. */
    public static PointCatalogue load(Properties state, List<RetentionJournal.PointRecord> records) {
        PointCatalogue c = new PointCatalogue();
        c.next = Long.parseLong(state.getProperty(NEXT_KEY, "1"));
        c.dropped = Long.parseLong(state.getProperty(DROPPED_KEY, "0"));
        for (String key : state.stringPropertyNames()) {
            if (key.startsWith(PENDING_PREFIX)) {
                try {
                    Pending p = parsePending(UUID.fromString(key.substring(PENDING_PREFIX.length())),
                            state.getProperty(key));
                    c.pending.put(p.id(), p);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "recovery points: pending tag '" + key + "' unreadable, dropped: " + e);
                }
            }
        }
        for (RetentionJournal.PointRecord r : records) {
            if (r.number() <= c.dropped) {
                continue;
            }
            try {
                Point p = parsePoint(r.number(), r.segment(), new String(r.payload(), StandardCharsets.UTF_8));
                c.add(p);
                c.next = Math.max(c.next, p.number() + 1);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "recovery points: point record " + r.number() + " unreadable, ignored: " + e);
            }
        }
        return c;
    }

    /** Writes pending tags and counters into the state. */
    public void save(Properties state) {
        state.setProperty(NEXT_KEY, Long.toString(next));
        state.setProperty(DROPPED_KEY, Long.toString(dropped));
        for (Pending p : pending.values()) {
            state.setProperty(PENDING_PREFIX + p.id(), formatPending(p));
        }
    }

    /** The point kind of a tag kind; kinds this version does not know are crash-consistent. */
    static PointKind kindOf(TagKind k) {
        return switch (k) {
            case APPLICATION, PLANNED_FAILOVER -> PointKind.APPLICATION_CONSISTENT;
            case BOOKMARK -> PointKind.CRASH_CONSISTENT;
            default -> PointKind.CRASH_CONSISTENT;
        };
    }

    /** The point's tag name: named kinds keep it, unnamed (periodic checkpoints) have none. */
    static String nameOf(TagKind k, String name) {
        return switch (k) {
            case APPLICATION, PLANNED_FAILOVER, BOOKMARK -> name;
            default -> null;
        };
    }

    /**
     * Computes what committing tags makes: the new pending set and the points that become
     * complete (numbered, named). Nothing changes until {@link #install}.
     *
     * @param members the member disks of a group now
     */
    public Prepared prepare(List<TagSeen> seen, Function<GroupId, Set<DiskId>> members) {
        Map<UUID, Pending> after = new LinkedHashMap<>(pending);
        List<Point> made = new ArrayList<>();
        if (seen.isEmpty()) {
            return new Prepared(after, made);
        }
        long n = next;
        for (TagSeen s : seen) {
            Pending p = after.get(s.tag().id());
            if (p == null) {
                Set<DiskId> m = new TreeSet<>(members.apply(s.group()));
                m.add(s.disk());
                p = new Pending(s.tag().id(), s.group(), s.tag().kind(), s.tag().name(), s.tag().time(), m,
                        new TreeMap<>());
            } else {
                p = new Pending(p.id(), p.group(), p.kind(), p.name(), p.time(), p.members(), new TreeMap<>(p.done()));
            }
            p.done().put(s.disk(), s.sequence());
            if (p.done().keySet().containsAll(p.members())) {
                after.remove(p.id());
                String name = nameOf(p.kind(), p.name());
                if (name != null) {
                    name = unclash(p.group(), name, made);
                }
                long number = n++;
                String id = p.group().value() + "@" + p.time().toEpochMilli() + "-" + number;
                made.add(new Point(number, new RecoveryPoint(id, p.group(), p.time(), kindOf(p.kind()), name),
                        Map.copyOf(p.done()), -1));
            } else {
                after.put(p.id(), p);
            }
        }
        return new Prepared(after, made);
    }

    private String unclash(GroupId group, String name, List<Point> made) {
        Set<String> taken = new HashSet<>();
        for (Point p : points.values()) {
            if (p.point().group().equals(group) && p.point().tagName() != null) {
                taken.add(p.point().tagName());
            }
        }
        for (Point p : made) {
            if (p.point().group().equals(group) && p.point().tagName() != null) {
                taken.add(p.point().tagName());
            }
        }
        if (!taken.contains(name)) {
            return name;
        }
        int k = 2;
        while (taken.contains(name + "#" + k)) {
            k++;
        }
        String renamed = name + "#" + k;
        LOG.log(Level.WARNING, "recovery points: group " + group + " already lists a point tagged '" + name
                + "'; the new point is listed as '" + renamed + "'");
        return renamed;
    }

    /** The description stored in a point record. */
    public static byte[] payload(Point p) {
        RecoveryPoint r = p.point();
        StringBuilder b = new StringBuilder("v1|").append(r.id()).append('|').append(r.group().value()).append('|')
                .append(ChronoUnit.MICROS.between(Instant.EPOCH, r.time())).append('|').append(r.kind().name())
                .append('|');
        if (r.tagName() != null) {
            b.append(Base64.getUrlEncoder().encodeToString(r.tagName().getBytes(StandardCharsets.UTF_8)));
        }
        b.append('|').append(seqs(p.sequences()));
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Makes prepared changes current; {@code segment} is where the points' records were appended. */
    public void install(Prepared prepared, Map<Long, Long> segmentOf) {
        pending = prepared.pending();
        for (Point p : prepared.points()) {
            Point q = new Point(p.number(), p.point(), p.sequences(), segmentOf.getOrDefault(p.number(), -1L));
            add(q);
            next = Math.max(next, q.number() + 1);
        }
    }

    private void add(Point p) {
        Point old = points.put(p.number(), p);
        if (old != null) {
            remove(old);
            points.put(p.number(), p);
        }
        byId.put(p.point().id(), p.number());
        perGroup.merge(p.point().group(), 1, Integer::sum);
    }

    private void remove(Point p) {
        byId.remove(p.point().id());
        perGroup.computeIfPresent(p.point().group(), (g, n) -> n == 1 ? null : n - 1);
    }

    /** Whether a group has a listed point or a pending tag: its overwrites must be journaled. */
    public boolean journaling(GroupId group) {
        if (perGroup.containsKey(group)) {
            return true;
        }
        for (Pending p : pending.values()) {
            if (p.group().equals(group)) {
                return true;
            }
        }
        return false;
    }

    /** Listed points, oldest (by creation) first. */
    public List<Point> all() {
        return new ArrayList<>(points.values());
    }

    /** Listed points of a group (or all), sorted by time. */
    public List<RecoveryPoint> list(Optional<GroupId> group) {
        List<RecoveryPoint> out = new ArrayList<>();
        for (Point p : points.values()) {
            if (group.isEmpty() || group.get().equals(p.point().group())) {
                out.add(p.point());
            }
        }
        out.sort(Comparator.comparing(RecoveryPoint::time).thenComparing(RecoveryPoint::id));
        return out;
    }

    /** A listed point by id. */
    public Point get(String id) {
        Long number = byId.get(id);
        if (number != null) {
            return points.get(number);
        }
        throw new UnknownPointException("recovery point '" + id + "' is not listed: it was never made or has been"
                + " pruned (" + (points.isEmpty() ? "no points are listed"
                : "the oldest listed point is '" + points.firstEntry().getValue().point().id() + "'") + ")");
    }

    public Optional<Point> oldest() {
        return points.isEmpty() ? Optional.empty() : Optional.of(points.firstEntry().getValue());
    }

    public Optional<Point> newestByTime() {
        return points.values().stream().max(Comparator.comparing((Point p) -> p.point().time())
                .thenComparing(Point::number));
    }

    /**
     * Forgets tags still waiting for some member disk whose time is before {@code cutoff} (a
     * member that never sends the tag must not keep its group journaling forever).
     */
    public int dropPendingBefore(Instant cutoff) {
        int before = pending.size();
        Map<UUID, Pending> kept = new LinkedHashMap<>();
        for (Pending p : pending.values()) {
            if (!p.time().isBefore(cutoff)) {
                kept.put(p.id(), p);
            } else {
                LOG.log(Level.WARNING, "recovery points: tag '" + p.name() + "' of group " + p.group() + " was committed"
                        + " by " + p.done().keySet() + " but never by " + missing(p) + " within the retention window;"
                        + " no point is made of it");
            }
        }
        pending = kept;
        return before - kept.size();
    }

    private static Set<DiskId> missing(Pending p) {
        Set<DiskId> m = new TreeSet<>(p.members());
        m.removeAll(p.done().keySet());
        return m;
    }

    /** Drops the oldest point (persist {@link #save} afterwards). */
    public Point dropOldest() {
        Map.Entry<Long, Point> e = points.pollFirstEntry();
        remove(e.getValue());
        dropped = Math.max(dropped, e.getKey());
        return e.getValue();
    }

    public int size() {
        return points.size();
    }

    // ------------------------------------------------------------------ text forms

    private static String seqs(Map<DiskId, Long> m) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<DiskId, Long> e : new TreeMap<>(m).entrySet()) {
            if (b.length() > 0) {
                b.append(';');
            }
            b.append(e.getKey().value()).append('=').append(e.getValue());
        }
        return b.toString();
    }

    private static Map<DiskId, Long> parseSeqs(String s) {
        Map<DiskId, Long> m = new TreeMap<>();
        if (!s.isEmpty()) {
            for (String kv : s.split(";")) {
                int eq = kv.lastIndexOf('=');
                m.put(DiskId.of(kv.substring(0, eq)), Long.parseLong(kv.substring(eq + 1)));
            }
        }
        return m;
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String unb64(String s) {
        return new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
    }

    static Point parsePoint(long number, long segment, String text) {
        String[] f = text.split("\\|", -1);
        if (f.length != 7 || !f[0].equals("v1")) {
            throw new IllegalArgumentException("not a v1 point record: " + text);
        }
        Instant time = Instant.EPOCH.plus(Long.parseLong(f[3]), ChronoUnit.MICROS);
        RecoveryPoint r = new RecoveryPoint(f[1], GroupId.of(f[2]), time, PointKind.valueOf(f[4]),
                f[5].isEmpty() ? null : unb64(f[5]));
        return new Point(number, r, Map.copyOf(parseSeqs(f[6])), segment);
    }

    private static String formatPending(Pending p) {
        StringBuilder members = new StringBuilder();
        for (DiskId d : p.members()) {
            if (members.length() > 0) {
                members.append(';');
            }
            members.append(d.value());
        }
        return p.group().value() + "|" + p.kind().name() + "|" + ChronoUnit.MICROS.between(Instant.EPOCH, p.time())
                + "|" + b64(p.name()) + "|" + members + "|" + seqs(p.done());
    }

    private static Pending parsePending(UUID id, String text) {
        String[] f = text.split("\\|", -1);
        if (f.length != 6) {
            throw new IllegalArgumentException("expected group|kind|timeMicros|name|members|done, got " + text);
        }
        Set<DiskId> members = new TreeSet<>();
        for (String m : f[4].split(";")) {
            if (!m.isEmpty()) {
                members.add(DiskId.of(m));
            }
        }
        return new Pending(id, GroupId.of(f[0]), TagKind.valueOf(f[1]),
                unb64(f[3]), Instant.EPOCH.plus(Long.parseLong(f[2]), ChronoUnit.MICROS), members,
                new TreeMap<>(parseSeqs(f[5])));
    }
}
