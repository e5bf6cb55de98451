package org.secondsite.processserver.internal.spool;

import java.io.IOException;

/**
 * An append was refused because the spool would exceed its size bound, or its filesystem is
 * full. Nothing of that entry was written; the spool accepts again once released entries free
 * whole segments or space returns.
 */
public final class SpoolFullException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient SpoolFigures figures;
    private final long entryBytes;

    SpoolFullException(SpoolFigures figures, long entryBytes) {
        super("spool is full: " + figures.diskBytes() + " of " + figures.maxBytes() + " bytes used in "
                + figures.segmentCount() + " segment(s), " + figures.backlogBytes() + " bytes in "
                + figures.entryCount() + " entries not yet released downstream; an entry of " + entryBytes
                + " bytes does not fit. Appends resume once released entries free whole segments.");
        this.figures = figures;
        this.entryBytes = entryBytes;
    }

    /**
     * The filesystem under the spool is full: {@code reason} says so. Nothing of the refused
     * entry was written; entries queued before it stay queued and become durable once space returns.
     */
    SpoolFullException(SpoolFigures figures, long entryBytes, String reason) {
        super(reason + "; " + figures.diskBytes() + " bytes in " + figures.segmentCount() + " segment(s), "
                + figures.backlogBytes() + " bytes not yet released downstream. Appends resume once space returns.");
        this.figures = figures;
        this.entryBytes = entryBytes;
    }

    /** The spool's state when the append was refused. */
    public SpoolFigures figures() {
        return figures;
    }

    /** Bytes the refused entry needed on disk (framing included). */
    public long entryBytes() {
        return entryBytes;
    }
}
