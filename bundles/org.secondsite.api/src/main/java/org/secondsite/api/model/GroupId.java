package org.secondsite.api.model;

/**
 * Identity of a consistency group: disks (of one or several machines) that share
 * recovery points and consistency tags, so they recover to one moment together.
 * A disk that is in no explicit group forms a group of its own.
 *
 * @param value 1-128 characters of letters, digits, {@code . _ : -}
 */
public record GroupId(String value) implements Comparable<GroupId> {
    /** @throws IllegalArgumentException if {@code value} is not a valid identity */
    public GroupId {
        Ids.check("group id", value);
    }

    /** Parses a group id, with the same rules as the constructor. */
    public static GroupId of(String value) {
        return new GroupId(value);
    }

    @Override
    public int compareTo(GroupId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
