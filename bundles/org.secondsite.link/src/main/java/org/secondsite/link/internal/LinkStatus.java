package org.secondsite.link.internal;

import java.net.URI;
import java.time.Instant;

/**
 * What the link is doing, for people ({@code dr:link}).
 *
 * @param phase {@code not configured}, {@code starting}, {@code registering}, {@code registered}, or
 *        {@code stopped} (a refusal that only a configuration change ends)
 * @param configServer the configuration server, or null when not configured
 * @param componentId this component's id, or null when not configured
 * @param role its role, or null
 * @param registeredAt when it registered, or null
 * @param certificateSerial its certificate's serial, or null
 * @param certificateExpires when its certificate expires, or null
 * @param lastHeartbeatAt when the last heartbeat was attempted, or null
 * @param lastHeartbeatOutcome {@code accepted} or why it failed, or null before the first
 * @param appliedRevision the last desired-state revision applied (0 = none)
 * @param desiredRevision the revision the configuration server last announced (0 = none)
 * @param applyError why the last desired state could not be applied, or null
 * @param lastError the last problem, or null
 * @param lastErrorAt when it happened, or null
 */
public record LinkStatus(String phase, URI configServer, String componentId, String role, Instant registeredAt,
                         String certificateSerial, Instant certificateExpires, Instant lastHeartbeatAt,
                         String lastHeartbeatOutcome, long appliedRevision, long desiredRevision, String applyError,
                         String lastError, Instant lastErrorAt) {

    /** The status of a link that is not configured (no configServer), with the reason if any. */
    public static LinkStatus notConfigured(String why) {
        return new LinkStatus("not configured", null, null, null, null, null, null, null, null, 0, 0, null, why,
                null);
    }

    LinkStatus phase(String p) {
        return new LinkStatus(p, configServer, componentId, role, registeredAt, certificateSerial, certificateExpires,
                lastHeartbeatAt, lastHeartbeatOutcome, appliedRevision, desiredRevision, applyError, lastError,
                lastErrorAt);
    }

    LinkStatus registration(Instant at, String serial, Instant expires) {
        return new LinkStatus(phase, configServer, componentId, role, at, serial, expires, lastHeartbeatAt,
                lastHeartbeatOutcome, appliedRevision, desiredRevision, applyError, lastError, lastErrorAt);
    }

    LinkStatus heartbeat(Instant at, String outcome) {
        return new LinkStatus(phase, configServer, componentId, role, registeredAt, certificateSerial,
                certificateExpires, at, outcome, appliedRevision, desiredRevision, applyError, lastError, lastErrorAt);
    }

    LinkStatus revisions(long applied, long desired, String error) {
        return new LinkStatus(phase, configServer, componentId, role, registeredAt, certificateSerial,
                certificateExpires, lastHeartbeatAt, lastHeartbeatOutcome, applied, desired, error, lastError,
                lastErrorAt);
    }

    LinkStatus error(String error, Instant at) {
        return new LinkStatus(phase, configServer, componentId, role, registeredAt, certificateSerial,
                certificateExpires, lastHeartbeatAt, lastHeartbeatOutcome, appliedRevision, desiredRevision,
                applyError, error, at);
    }
}
