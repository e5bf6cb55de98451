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
}
