package org.secondsite.processserver.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite process server",
        description = "Receives agent batches, spools them durably, compresses and forwards them to the master target.")
@interface ProcessServerConfig {
    @AttributeDefinition(name = "Listen", description = "host:port the receiver listens on for agents")
    String listen() default "0.0.0.0:9443";

    @AttributeDefinition(name = "Master target", description = "host:port of the master target")
    String masterTarget() default "localhost:9444";

    @AttributeDefinition(name = "Transport", description = "Name of the transport plugin (secondsite.transport)")
    String transport() default "tls";

    @AttributeDefinition(name = "WAN compressor", description = "Compressor batches are spooled and forwarded with")
    String wanCompressor() default "lz4";

    @AttributeDefinition(name = "Spool directory", description = "${karaf.data} is expanded")
    String spoolDir() default "${karaf.data}/secondsite/spool";

    @AttributeDefinition(name = "Spool size bound", description = "Bytes; when reached, agents are told to hold and retry")
    long spoolMaxBytes() default 20L * 1024 * 1024 * 1024;

    @AttributeDefinition(name = "Spool segment size", description = "Bytes per segment file")
    long spoolSegmentBytes() default 64L * 1024 * 1024;

    @AttributeDefinition(name = "Bandwidth schedule", description = "Limit towards the master target, applied live, "
            + "e.g. 'Mon-Fri 08:00-18:00=20MB/s, *=0' (0 = unlimited; first matching rule wins)")
    String bandwidthSchedule() default "";

    @AttributeDefinition(name = "Window", description = "Bytes forwarded and not yet acknowledged (>= 18874368)")
    long windowBytes() default 64L * 1024 * 1024;

    @AttributeDefinition(name = "Heartbeat", description = "Idle seconds before a heartbeat; the link is lost after three")
    int heartbeatSeconds() default 5;

    @AttributeDefinition(name = "Maximum reconnect delay", description = "Cap of the exponential back-off, in seconds")
    int backoffMaxSeconds() default 30;

    @AttributeDefinition(name = "Tag hold bound", description = "Longest time, in milliseconds (1..60000), the "
            + "agents of a consistency group spanning several machines hold its writes for a coordinated tag; "
            + "each agent also caps it with its own tagHoldMillis")
    long tagHoldMillis() default 2000;

    @AttributeDefinition(name = "Tag prepare timeout", description = "Milliseconds the agents of a group may take "
            + "to answer a coordinated tag's TAG_PREPARE (their pre-freeze hooks run first); then it is refused")
    long tagPrepareMillis() default 60000;

    @AttributeDefinition(name = "Group checkpoint interval", description = "Milliseconds (100..3600000; 0 = none) "
            + "between crash-consistent checkpoints of consistency groups whose disks belong to several agents, "
            + "coordinated by this process server (groups of one agent are checkpointed by that agent)")
    long groupCheckpointMillis() default 1000;
}
