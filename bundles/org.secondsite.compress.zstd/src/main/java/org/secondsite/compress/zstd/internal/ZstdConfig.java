package org.secondsite.compress.zstd.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite zstd compressor",
        description = "Zstandard compression of replication batches (secondsite.compressor=zstd).")
@interface ZstdConfig {
    @AttributeDefinition(name = "Level",
            description = "Compression level: 1 (fastest of the normal levels, the default) to 22 (smallest output, very slow); "
                    + "-7 to -1 are faster still with less compression. 0 is not allowed.",
            min = "-7", max = "22")
    int level() default 1;
}
