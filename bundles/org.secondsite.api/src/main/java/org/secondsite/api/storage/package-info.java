/**
 * Storage-backend extension point: replica volumes and durable objects (journal segments, metadata) at the secondary site.
 */
@Export
@Version("1.1.0")
package org.secondsite.api.storage;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
