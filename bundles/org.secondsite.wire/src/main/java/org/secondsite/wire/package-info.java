/**
 * Codec of the replication wire protocol (docs/PROTOCOL.md): {@link org.secondsite.wire.MessageCodec}
 * for control messages, {@link org.secondsite.wire.BatchEncoder} and
 * {@link org.secondsite.wire.BatchDecoder} for delta batches. Plain Java, no OSGi services.
 */
@Export
@Version("1.1.0")
package org.secondsite.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
