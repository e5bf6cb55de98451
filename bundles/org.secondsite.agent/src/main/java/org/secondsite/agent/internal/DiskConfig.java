package org.secondsite.agent.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite protected disk", description = "One disk protected by this agent. "
        + "Driver options are given as capture.<key> = value.")
@interface DiskConfig {
    @AttributeDefinition(name = "Disk id", description = "Identity of the disk, e.g. web01:disk0")
    String diskId();

    @AttributeDefinition(name = "Group", description = "Consistency group; empty: the disk's own id", required = false)
    String group() default "";

    @AttributeDefinition(name = "Source", description = "The disk as the agent sees it: a file or a block device")
    String source();

    @AttributeDefinition(name = "Capture driver", description = "Name of the capture driver (secondsite.capture)")
    String driver() default "nbd";

    @AttributeDefinition(name = "Resync request", description = "A counter: raising it (the configuration server's "
            + "resync job does) resyncs the disk without restarting its capture", required = false)
    long resyncRequest() default 0;
}
