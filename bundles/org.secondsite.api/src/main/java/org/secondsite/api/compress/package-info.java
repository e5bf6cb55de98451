/**
 * Compressor extension point: compresses the payload of a delta batch.
 */
@Export
@Version("1.0.0")
package org.secondsite.api.compress;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
