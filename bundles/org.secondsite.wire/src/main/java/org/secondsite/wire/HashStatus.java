package org.secondsite.wire;

/** Outcome of a HASH_QUERY, carried by HASHES (docs/PROTOCOL.md §3.12). */
public enum HashStatus {
    /** The hashes are there, one per block of the query. */
    OK(0),
    /**
     * Not answered now, ask again later: the replica did not reach the query's sequence in time,
     * the process server has no connection to the master target, or that connection was lost.
     */
    RETRY(1),
    /** Cannot be answered: the range is outside the replica, or reading the replica failed. */
    FAILED(2);

    private final int code;

    HashStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The status with that code, or {@code null}. */
    public static HashStatus ofCode(int code) {
        for (HashStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }
}
