package org.secondsite.storage.file.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "SecondSite file storage backend",
        description = "Replica volumes as sparse raw images and journal objects as files under one directory.")
@interface FileStorageConfig {

    @AttributeDefinition(name = "Root directory",
            description = "Absolute directory holding volumes/ and objects/. ${karaf.data} is replaced by the"
                    + " karaf.data system property.")
    String root() default FileStorageBackend.DEFAULT_ROOT;
}
