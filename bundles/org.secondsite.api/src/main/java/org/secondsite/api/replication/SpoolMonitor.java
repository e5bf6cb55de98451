package org.secondsite.api.replication;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The durable spool of a process server: how much of its cap is free. The configuration server
 * raises alerts from it (free below 30 % warning, below 25 % critical, by default).
 */
@ProviderType
public interface SpoolMonitor {

    /** Bytes the spool may use on disk (its configured cap). */
    long capacityBytes();

    /** Bytes of that cap not in use now. */
    long freeBytes();
}
