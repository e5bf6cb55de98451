/**
 * The shared data model: disk and group identities, change records, delta batches, consistency tags and recovery points.
 */
@Export
@Version("1.1.0")
package org.secondsite.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
