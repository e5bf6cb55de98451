package org.secondsite.appliance.internal.rest;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.TreeSet;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.model.DiskId;
import org.secondsite.appliance.internal.HistoryBuffer;
import org.secondsite.appliance.internal.ReplicationHistory;

/**
 * {@code GET /api/v1/replication/history?disk=<disk>&window=PT1H}: a disk's RPO, backlog and
 * throughput sampled every {@value ReplicationHistory#INTERVAL_SECONDS} s over the window (an
 * ISO-8601 duration from one minute to one day, default one hour), as columns ready for a chart.
 * In memory: the history starts when the appliance does.
 */
@Component(service = ReplicationHistoryResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("replication/history")
public class ReplicationHistoryResource {
    static final Duration MIN_WINDOW = Duration.ofMinutes(1);

    /**
     * The columns: sample times (seconds since the epoch), RPO in milliseconds, backlog in bytes,
     * capture and apply rates in bytes per second.
     */
    public record History(String disk, String window, int intervalSeconds, List<Long> epochSeconds,
                          List<Long> rpoMillis, List<Long> backlogBytes, List<Double> inPerSecond,
                          List<Double> outPerSecond) {
    }

    private final ReplicationHistory history;

    @Activate
    public ReplicationHistoryResource(@Reference ReplicationHistory history) {
        this.history = history;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public History get(@QueryParam("disk") String disk, @QueryParam("window") String window) {
        if (disk == null || disk.isEmpty()) {
            throw new IllegalArgumentException("query parameter 'disk': required (a disk id as GET /replication lists)");
        }
        try {
            DiskId.of(disk);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("query parameter 'disk': " + e.getMessage());
        }
        Duration w = window(window);
        if (!history.disks().contains(disk)) {
            throw new NoSuchElementException("no replication history for disk '" + disk + "'; disks with a history: "
                    + new TreeSet<>(history.disks()));
        }
        List<HistoryBuffer.Sample> s = history.history(disk, w);
        return new History(disk, w.toString(), ReplicationHistory.INTERVAL_SECONDS,
                s.stream().map(x -> x.time().getEpochSecond()).toList(),
                s.stream().map(HistoryBuffer.Sample::rpoMillis).toList(),
                s.stream().map(HistoryBuffer.Sample::backlogBytes).toList(),
                s.stream().map(HistoryBuffer.Sample::inPerSecond).toList(),
                s.stream().map(HistoryBuffer.Sample::outPerSecond).toList());
    }

    static Duration window(String window) {
        if (window == null || window.isEmpty()) {
            return Duration.ofHours(1);
        }
        String shown = window.length() > 40 ? window.substring(0, 40) + "..." : window;
        Duration w;
        try {
            if (window.length() > 40) {
                throw new DateTimeParseException("too long", window, 40);
            }
            w = Duration.parse(window);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("query parameter 'window': not an ISO-8601 duration such as PT1H or P1D: '"
                    + shown + "'");
        }
        if (w.compareTo(MIN_WINDOW) < 0 || w.compareTo(ReplicationHistory.SPAN) > 0) {
            throw new IllegalArgumentException("query parameter 'window': must be from PT1M to P1D (one day), got "
                    + shown);
        }
        return w;
    }
}
