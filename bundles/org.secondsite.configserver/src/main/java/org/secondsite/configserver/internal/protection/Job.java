package org.secondsite.configserver.internal.protection;

import java.time.Instant;
import java.util.List;

/**
 * A job: a change to a machine's protection carried out by the components, step by step.
 *
 * @param id generated id
 * @param kind {@code protect}, {@code unprotect}, {@code resync} or {@code change-policy}
 * @param machineId the machine it changes
 * @param state {@code running}, {@code succeeded} or {@code failed}
 * @param progress 0-100
 * @param error why it failed, or null
 * @param createdBy who started it
 * @param createdAt when it was started
 * @param updatedAt when its state or progress last changed
 * @param steps its steps in order
 */
public record Job(long id, String kind, String machineId, String state, int progress, String error, String createdBy,
                  Instant createdAt, Instant updatedAt, List<Step> steps) {
    public static final String PROTECT = "protect";
    public static final String UNPROTECT = "unprotect";
    public static final String RESYNC = "resync";
    public static final String CHANGE_POLICY = "change-policy";
    public static final String RUNNING = "running";
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";
    public static final List<String> STATES = List.of("queued", RUNNING, SUCCEEDED, FAILED, "cancelled");

    public Job {
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /**
     * One step.
     *
     * @param ordinal 1, 2, ...
     * @param name what it does, for people
     * @param kind {@code apply} (a component applies its desired state), {@code replicate} (the machine's
     *        disks replicate) or {@code finish} (the catalogue records the outcome)
     * @param state {@code pending}, {@code running}, {@code succeeded} or {@code failed}
     * @param progress 0-100
     * @param error why it failed, or null
     * @param startedAt when it started, or null
     * @param endedAt when it ended, or null
     * @param waitComponent for {@code apply}: the component
     * @param waitRevision for {@code apply}: the desired-state revision it must have applied
     */
    public record Step(int ordinal, String name, String kind, String state, int progress, String error,
                       Instant startedAt, Instant endedAt, String waitComponent, Long waitRevision) {
        public static final String APPLY = "apply";
        public static final String REPLICATE = "replicate";
        public static final String FINISH = "finish";
        public static final String PENDING = "pending";
    }
}
