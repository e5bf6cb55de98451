/**
 * Capture-driver extension point: turns writes on a protected disk into an ordered stream of change records.
 */
@Export
@Version("1.1.0")
package org.secondsite.api.capture;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
