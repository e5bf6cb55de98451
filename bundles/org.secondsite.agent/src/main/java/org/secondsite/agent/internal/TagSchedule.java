package org.secondsite.agent.internal;

import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/**
 * Application-consistent points on a schedule: every {@code interval} each consistency group
 * of this agent is tagged {@code scheduled-<UTC time>} with its hooks ({@link TagKind#APPLICATION}),
 * as a policy's app-consistency schedule asks. A refused tag (a hook failed, the group is not
 * consistent now) is logged and the next one comes at the next interval; the schedule never stops
 * for an error.
 */
final class TagSchedule implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TagSchedule.class.getName());
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    /** Tags one group; {@link AgentService#tag} in production. */
    interface Tagging {
        TagResult tag(GroupId group, String name, TagKind kind);
    }

    private final Supplier<List<GroupId>> groups;
    private final Tagging tagging;
    private final Clock clock;
    private final ScheduledExecutorService timer;

    /**
     * @param interval between scheduled tags; zero turns the schedule off
     */
    TagSchedule(Duration interval, Supplier<List<GroupId>> groups, Tagging tagging, Clock clock) {
        if (interval.isNegative() || (!interval.isZero() && interval.compareTo(Duration.ofMinutes(1)) < 0)) {
            throw new IllegalArgumentException("appTagMinutes must be 0 (off) or at least 1, got " + interval);
        }
        this.groups = Objects.requireNonNull(groups, "groups");
        this.tagging = Objects.requireNonNull(tagging, "tagging");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.isZero()) {
            timer = null;
        } else {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "secondsite-tag-schedule");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleAtFixedRate(this::runOnce, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Tags every group once; returns the outcomes. */
    List<TagResult> runOnce() {
        List<TagResult> results = new ArrayList<>();
        String name = "scheduled-" + NAME.format(clock.instant());
        for (GroupId g : groups.get()) {
            try {
                TagResult r = tagging.tag(g, name, TagKind.APPLICATION);
                results.add(r);
                LOG.log(r.ok() ? Level.INFO : Level.WARNING, "scheduled application-consistent tag: " + r.summary());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "scheduled tag of group " + g + " failed: " + e);
            }
        }
        return results;
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
