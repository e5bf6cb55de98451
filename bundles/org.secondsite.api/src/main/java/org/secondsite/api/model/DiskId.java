package org.secondsite.api.model;

/**
 * Identity of one protected disk, unique within a deployment (for example
 * {@code web01:disk0} or a VMware disk UUID).
 *
 * @param value 1-128 characters of letters, digits, {@code . _ : -}
 */
public record DiskId(String value) implements Comparable<DiskId> {
    /** @throws IllegalArgumentException if {@code value} is not a valid identity */
    public DiskId {
        Ids.check("disk id", value);
    }

    /** Parses a disk id, with the same rules as the constructor. */
    public static DiskId of(String value) {
        return new DiskId(value);
    }

    @Override
    public int compareTo(DiskId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
