package org.secondsite.api.model;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A state of a consistency group that the master target can materialise: every disk of
 * the group as it was after the write acknowledged at {@link #time()}.
 *
 * @param id stable identifier, unique within the master target
 * @param group the consistency group
 * @param time acknowledgement time of the newest write contained in the point
 * @param kind crash- or application-consistent
 * @param tagName the tag's name for tagged points, otherwise {@code null}
 */
public record RecoveryPoint(String id, GroupId group, Instant time, PointKind kind, String tagName) {
    public RecoveryPoint {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(kind, "kind");
    }

    /** The tag's name, if this point was tagged. */
    public Optional<String> tag() {
        return Optional.ofNullable(tagName);
    }
}
