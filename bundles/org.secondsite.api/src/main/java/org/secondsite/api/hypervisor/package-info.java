/**
 * Hypervisor-connector extension point: inventory, replica machine registration and power control.
 */
@Export
@Version("1.0.0")
package org.secondsite.api.hypervisor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
