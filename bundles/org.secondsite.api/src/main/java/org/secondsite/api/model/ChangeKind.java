package org.secondsite.api.model;

/** What a change record does to its byte range. */
public enum ChangeKind {
    /** The range now holds the record's data. */
    WRITE,
    /** The range now reads as zeros (NBD WRITE_ZEROES); no data travels. */
    ZERO,
    /**
     * The range was discarded (NBD TRIM). Its content is undefined at the source; replicas
     * may keep the old bytes or zero them. No data travels.
     */
    TRIM,
    /**
     * The range changed but its data was not kept (bitmap mode, scan without data):
     * the receiver must obtain it by resync. No data travels.
     */
    DIRTY
}
