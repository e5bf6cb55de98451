/**
 * Replication status as the agent, process server and master target report it, for shell
 * commands, the REST API, health heartbeats and the console.
 */
@Export
@Version("1.2.0")
package org.secondsite.api.replication;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
