package org.secondsite.api.capture;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;
import org.secondsite.api.model.ChangeRecord;

/**
 * Receives the change stream of one disk; implemented by the agent core, which keeps the
 * changes with their data in memory, spills them to a local cache, or falls back to a
 * persisted dirty-region bitmap when both are exhausted or the link is down.
 */
@ProviderType
public interface ChangeSink {

    /**
     * Takes one change in write order. When this returns, the change is tracked: a crash
     * of the agent afterwards can at worst turn it into a dirty region to resync, never
     * lose it. Drivers call it before acknowledging the write to the workload. May block
     * briefly for back-pressure or while a consistency tag holds writes.
     */
    void accept(ChangeRecord change) throws IOException;

    /**
     * A write barrier: every change accepted so far is durable in the tracker (the workload
     * issued FLUSH/FUA). Returns when that holds.
     */
    void flush() throws IOException;
}
