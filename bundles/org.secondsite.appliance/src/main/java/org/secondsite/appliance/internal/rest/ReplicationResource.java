package org.secondsite.appliance.internal.rest;

import java.time.Instant;
import java.util.List;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ResyncProgress;
import org.secondsite.appliance.internal.ReplicationOverview;
import org.secondsite.appliance.rest.ApiDoc;

/** {@code GET /api/v1/replication}: every disk at every replication stage running here. */
@Component(service = ReplicationResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("replication")
@ApiDoc(summary = "Replication status of the disks at every stage running here")
public class ReplicationResource {

    /**
     * One disk at one stage, as JSON. Times are ISO-8601 or null; lag in milliseconds; rates in
     * bytes per second over the last sampling interval; {@code resync} (agent rows) the disk's
     * running or last resync, or null.
     */
    public record Disk(String disk, String stage, String state, String message, long lastSequence,
                       long acknowledgedSequence, long backlogBytes, String oldestPendingWrite,
                       String newestAppliedWrite, long lagMillis, long bytesIn, long bytesOut,
                       long bytesInPerSecond, long bytesOutPerSecond, Resync resync) {
    }

    /**
     * A resync as JSON: phase ({@code comparing}, {@code replaying}, {@code done}, {@code failed}),
     * why it runs, percent compared, bytes covered / compared / sent, ISO-8601 times, estimated
     * seconds left (null when unknown or finished), operator detail.
     */
    public record Resync(String phase, String reason, double percent, long totalBytes, long doneBytes, long sentBytes,
                         String started, String updated, Long etaSeconds, String message) {
        static Resync of(ResyncProgress r) {
            return r == null ? null : new Resync(r.phase().name().toLowerCase(), r.reason(), r.percent(), r.totalBytes(),
                    r.doneBytes(), r.sentBytes(), r.started().toString(), r.updated().toString(),
                    r.eta().map(java.time.Duration::toSeconds).orElse(null), r.message());
        }
    }

    private final ReplicationOverview overview;

    @Activate
    public ReplicationResource(@Reference ReplicationOverview overview) {
        this.overview = overview;
    }

    @GET
    @ApiDoc(summary = "Every disk at every replication stage on this appliance", description = "One row per disk "
            + "and stage (agent, process server, master target): state, sequences, backlog, lag, throughput and, "
            + "on agent rows, the running or last resync.")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public List<Disk> list() {
        Instant now = Instant.now();
        return overview.rows().stream().map(r -> toJson(r, now)).toList();
    }

    private static Disk toJson(ReplicationOverview.Row row, Instant now) {
        DiskReplicationStatus d = row.status();
        return new Disk(d.disk().value(), d.stage().name().toLowerCase().replace('_', '-'), d.state(), d.message(),
                d.lastSequence(), d.acknowledgedSequence(), d.backlogBytes(),
                d.oldestPendingWrite() == null ? null : d.oldestPendingWrite().toString(),
                d.newestAppliedWrite() == null ? null : d.newestAppliedWrite().toString(),
                d.lag(now).toMillis(), d.bytesIn(), d.bytesOut(), (long) row.inPerSecond(), (long) row.outPerSecond(),
                Resync.of(d.resync()));
    }
}
