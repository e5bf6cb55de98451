package org.secondsite.mastertarget.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite master target",
        description = "Receives batches from process servers and applies them to replica volumes.")
@interface MasterTargetConfig {
    @AttributeDefinition(name = "Listen", description = "host:port the receiver listens on for process servers")
    String listen() default "0.0.0.0:9444";

    @AttributeDefinition(name = "Transport", description = "Name of the transport plugin (secondsite.transport)")
    String transport() default "tls";

    @AttributeDefinition(name = "Storage backend", description = "Name of the storage backend (secondsite.storage)")
    String storage() default "file";

    @AttributeDefinition(name = "Group commit size", description = "Bytes of record data applied before one flush, "
            + "state write and acknowledgement, at most")
    long groupBytes() default 64L * 1024 * 1024;

    @AttributeDefinition(name = "Hashing threads", description = "Threads that read and hash replica ranges for the "
            + "resync's hash queries (1..64)")
    int hashThreads() default 2;

    @AttributeDefinition(name = "Hash query wait", description = "Seconds a hash query may wait until the replica has "
            + "applied the sequence it names; then it is answered 'retry' with the reason")
    int hashWaitSeconds() default 60;

    @AttributeDefinition(name = "Retention window", description = "Seconds of history kept as recovery points; older "
            + "points are pruned (must be positive)")
    long retentionWindowSeconds() default 86400;

    @AttributeDefinition(name = "Retention space cap", description = "MiB the undo journal may use; when reached the "
            + "oldest points are dropped (at least 64)")
    long retentionSpaceMiB() default 10240;

    @AttributeDefinition(name = "Export listen", description = "host:port of the NBD server that serves recovery "
            + "points (dr:export); plain NBD, keep it on loopback or a trusted network")
    String exportListen() default "127.0.0.1:10810";
}
