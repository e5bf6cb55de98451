package org.secondsite.api.model;

/** The consistency a recovery point guarantees. */
public enum PointKind {
    /** A state the disks really passed through, as after a power loss. */
    CRASH_CONSISTENT,
    /** A tagged state taken while the applications were quiesced by their hooks. */
    APPLICATION_CONSISTENT
}
