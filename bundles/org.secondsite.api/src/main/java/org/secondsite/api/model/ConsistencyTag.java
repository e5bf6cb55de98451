package org.secondsite.api.model;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A named marker in the change stream. The same tag (same {@link #id()}) is inserted into
 * the stream of every disk of a consistency group while their writes are held, so that the
 * tagged states of all disks belong to one moment. A tag closes the batch that carries it:
 * the tagged state is the disk's state after that batch's last record.
 *
 * @param id unique id, shared by all disks of the group
 * @param name operator-visible name, 1-128 printable characters, unique within a group's retention
 * @param kind why the tag exists
 * @param time when writes were held for the tag
 */
public record ConsistencyTag(UUID id, String name, TagKind kind, Instant time) {
    public ConsistencyTag {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.length() > 128 || !name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
            throw new IllegalArgumentException("tag name must be 1-128 printable characters");
        }
    }
}
