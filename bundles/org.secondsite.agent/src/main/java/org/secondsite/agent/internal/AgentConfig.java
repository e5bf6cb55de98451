package org.secondsite.agent.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite agent", description = "Batches captured changes and sends them to the process server.")
@interface AgentConfig {
    @AttributeDefinition(name = "Process server", description = "host:port of the process server's receiver")
    String processServer() default "localhost:9443";

    @AttributeDefinition(name = "Transport", description = "Name of the transport plugin (secondsite.transport)")
    String transport() default "tls";

    @AttributeDefinition(name = "Compressor", description = "Compressor for the agent to process server hop; "
            + "'none' leaves compression to the process server")
    String compressor() default "none";

    @AttributeDefinition(name = "Batch size", description = "Bytes of data after which a batch is cut (4096..16777216)")
    int batchBytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Batch age", description = "Milliseconds after which an open batch is cut")
    long batchAgeMillis() default 50;

    @AttributeDefinition(name = "Buffer", description = "Bytes of changes held in memory before writes are slowed down")
    long bufferBytes() default 256L * 1024 * 1024;

    @AttributeDefinition(name = "Window", description = "Bytes sent and not yet acknowledged (at least 18874368)")
    long windowBytes() default 64L * 1024 * 1024;

    @AttributeDefinition(name = "Data directory", description = "Where the agent keeps its state; "
            + "${karaf.data} is expanded")
    String dataDir() default "${karaf.data}/secondsite/agent";

    @AttributeDefinition(name = "Heartbeat", description = "Idle seconds before a heartbeat; the link is lost after three")
    int heartbeatSeconds() default 5;

    @AttributeDefinition(name = "Maximum reconnect delay", description = "Cap of the exponential back-off, in seconds")
    int backoffMaxSeconds() default 30;

    @AttributeDefinition(name = "Dirty region size", description = "Bytes per region of the dirty-region log: a power "
            + "of two from 4096 to 67108864. Smaller replays less after a crash or bitmap mode; larger marks "
            + "new regions (a forced write) less often")
    int regionBytes() default 64 * 1024;

    @AttributeDefinition(name = "Change cache", description = "Per disk, bytes of the on-disk change cache that takes "
            + "batches when memory is full; 0 disables it (memory full then means bitmap mode)")
    long spillBytes() default 1024L * 1024 * 1024;

    @AttributeDefinition(name = "Bitmap mode after", description = "Seconds the process server may be unreachable "
            + "before the disks switch to bitmap mode (only dirty regions remembered)")
    long bitmapAfterSeconds() default 300;

    @AttributeDefinition(name = "Dirty region clear delay", description = "Milliseconds a region must stay unwritten, "
            + "once acknowledged, before it is cleared from the dirty-region log (at least 10)")
    long dirtyClearMillis() default 5000;

    @AttributeDefinition(name = "Checkpoint interval", description = "Milliseconds between crash-consistent "
            + "checkpoints (100..3600000): each consistency group written since its last checkpoint gets one "
            + "CHECKPOINT tag on all its disks at one moment")
    long checkpointMillis() default 1000;

    @AttributeDefinition(name = "Tag hold bound", description = "Longest time, in milliseconds (1..60000), the writes "
            + "of a group are held for a tag coordinated across machines by the process server; the agent releases "
            + "by itself after it (the tag is then void)")
    long tagHoldMillis() default 2000;

    @AttributeDefinition(name = "Pre-freeze hooks", description = "Commands run (/bin/sh -c) in order before an "
            + "application-consistent tag; environment SECONDSITE_TAG, SECONDSITE_TAG_ID, SECONDSITE_GROUP, "
            + "SECONDSITE_PHASE. The first that fails or times out refuses the tag")
    String[] preFreezeHooks() default {};

    @AttributeDefinition(name = "Post-thaw hooks", description = "Commands run (/bin/sh -c) in order after an "
            + "application-consistent tag, also when a pre-freeze hook failed")
    String[] postThawHooks() default {};

    @AttributeDefinition(name = "Frozen mounts", description = "Linux mount points frozen with fsfreeze during an "
            + "application-consistent tag (after the pre-freeze hooks), always thawed; skipped where fsfreeze is missing")
    String[] freezeMounts() default {};

    @AttributeDefinition(name = "Hook timeout", description = "Milliseconds (100..3600000) a hook or fsfreeze may run; "
            + "then it and every process it started are killed and the tag is refused")
    long hookTimeoutMillis() default 30000;

    @AttributeDefinition(name = "Remembered tag names", description = "Tag names remembered per group (1..100000); "
            + "a tag reusing one of them is refused")
    int recentTagNames() default 256;

    @AttributeDefinition(name = "Application-consistent schedule", description = "Minutes between scheduled "
            + "application-consistent tags of every consistency group (with the hooks); 0 turns the schedule off")
    long appTagMinutes() default 0;
}
