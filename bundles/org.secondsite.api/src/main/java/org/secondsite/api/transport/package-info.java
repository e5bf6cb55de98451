/**
 * Transport extension point: carries length-prefixed frames between agent, process server and master target over an authenticated channel.
 */
@Export
@Version("1.1.0")
package org.secondsite.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
