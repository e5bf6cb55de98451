package org.secondsite.configserver.internal.catalogue;

import java.time.Instant;

/**
 * A registered (or removed) component as the catalogue keeps it.
 *
 * @param id component id, the common name of its certificate
 * @param role {@code agent}, {@code process-server} or {@code master-target}
 * @param site the site it belongs to, or null
 * @param address the address it registered from (informative)
 * @param certificateSerial serial number of the certificate issued at registration, hexadecimal
 * @param certificateExpires end of that certificate's validity
 * @param state {@code registered} or {@code removed}
 * @param registeredAt when it (last) registered
 * @param removedAt when it was removed, or null
 * @param lastHeartbeat its last heartbeat, or null
 * @param metrics its last reported metrics as a JSON object, or null
 */
public record Component(String id, String role, String site, String address, String certificateSerial,
                        Instant certificateExpires, String state, Instant registeredAt, Instant removedAt,
                        Instant lastHeartbeat, String metrics) {
    public static final String REGISTERED = "registered";
    public static final String REMOVED = "removed";
}
