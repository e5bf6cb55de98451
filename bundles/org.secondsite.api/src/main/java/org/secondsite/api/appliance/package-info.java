/**
 * Services the appliance core offers to shells, REST resources and plugins: role, version, plugin inventory.
 */
@Export
@Version("1.0.0")
package org.secondsite.api.appliance;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
