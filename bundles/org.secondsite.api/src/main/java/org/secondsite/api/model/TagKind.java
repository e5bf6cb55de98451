package org.secondsite.api.model;

/** Why a consistency tag was inserted into the change stream. */
public enum TagKind {
    /** After application hooks quiesced the workload (pre-freeze ran, post-thaw pending). */
    APPLICATION,
    /** An operator's or schedule's named crash-consistent bookmark, with no hooks. */
    BOOKMARK,
    /** The final tag of a planned failover: the source stops writing after it. */
    PLANNED_FAILOVER,
    /**
     * A crash-consistent cut of every disk of a group, taken by the agent at the checkpoint
     * interval while no write of the group is accepted; no hooks. Added in model 1.1.
     */
    CHECKPOINT
}
