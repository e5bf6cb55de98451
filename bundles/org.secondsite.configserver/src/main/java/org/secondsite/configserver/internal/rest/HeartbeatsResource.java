package org.secondsite.configserver.internal.rest;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.rest.ApiDoc;
import org.secondsite.appliance.rest.ComponentAuthenticator;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.catalogue.Heartbeat;
import org.secondsite.configserver.internal.protection.MirroredPoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code /api/v1/heartbeats}: components report their health. {@code POST} (operator: components
 * have no JAAS identity of their own yet, so the sender authenticates as a user with the operator
 * role) stores the component's latest figures and last-seen time; {@code GET /{componentId}}
 * (viewer) reads them back. Not audited: see {@link ConfigServer#heartbeat}.
 *
 * <pre>{"componentId":"agent-1","time":"2030-01-01T12:00:00Z","metrics":{"backlogBytes":0,
 *   "spoolFreePercent":80.5,"cpuLoad":0.4,"memoryUsedBytes":268435456,
 *   "disks":[{"diskId":"web01:disk0","rpoSeconds":12,"backlogBytes":0,"throughputBytesPerSecond":1048576,
 *             "state":"replicating","resyncRequired":false}]}}</pre>
 */
@Component(service = HeartbeatsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("heartbeats")
public class HeartbeatsResource {
    static final Set<String> FIELDS = Set.of("componentId", "time", "metrics", "appliedRevision", "applyError",
            "points");
    static final Set<String> POINTS = Set.of("oldest", "items");
    static final Set<String> POINT = Set.of("id", "group", "time", "kind", "tag");
    /** Recovery points one heartbeat may carry (the link sends at most 1,000 and catches up over several). */
    static final int MAX_POINTS = 1000;
    /** The longest apply error kept. */
    static final int MAX_APPLY_ERROR = 2000;
    static final Set<String> METRICS = Set.of("backlogBytes", "disks", "spoolFreePercent", "cpuLoad",
            "memoryUsedBytes");
    static final Set<String> DISK = Set.of("diskId", "rpoSeconds", "backlogBytes", "throughputBytesPerSecond",
            "state", "resyncRequired", "resyncPercent");
    /** 256 disks with long ids fit; the shared 64 KiB limit of other bodies would not. */
    static final int MAX_BODY_CHARS = 256 * 1024;

    private final ConfigServer server;

    @Activate
    public HeartbeatsResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    HeartbeatsResource(ConfigServer server) {
        this.server = server;
    }

    /**
     * For harnesses that host the resource outside OSGi (benchmarks/controlplane). A factory, not a
     * second public constructor: SCR picks the activation constructor among the public ones.
     */
    public static HeartbeatsResource on(ConfigServer server) {
        return new HeartbeatsResource(server);
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed({Appliance.ROLE_OPERATOR, ComponentAuthenticator.ROLE})
    @ApiDoc(summary = "A component reports its health; the answer carries its desired state", description = "Signed by the component (SecondSite-Signature) or posted by an operator. The answer has the desired-state document when desiredRevision is above the appliedRevision sent (docs/PROTOCOL.md section 8).", response = Views.HeartbeatAnswer.class)
    public Response post(String body, @Context SecurityContext security) {
        return Rest.answer(() -> {
            ObjectNode o = Rest.object(body, FIELDS, MAX_BODY_CHARS);
            Heartbeat hb = parse(o);
            String sender = security == null || security.getUserPrincipal() == null ? null
                    : security.getUserPrincipal().getName();
            if (sender != null && sender.startsWith(ComponentAuthenticator.PRINCIPAL_PREFIX)
                    && !sender.equals(ComponentAuthenticator.PRINCIPAL_PREFIX + hb.componentId())) {
                throw ConfigServerException.forbidden(sender + " may only report its own heartbeat, not '"
                        + hb.componentId() + "'");
            }
            Long applied = o.has("appliedRevision") ? Rest.optionalLong(o, "", "appliedRevision", 0) : null;
            String applyError = Rest.optionalString(o, "", "applyError", null);
            if (applyError != null && applyError.length() > MAX_APPLY_ERROR) {
                throw ConfigServerException.invalid("applyError", "applyError is longer than " + MAX_APPLY_ERROR
                        + " characters");
            }
            ConfigServer.HeartbeatAnswer answer = server.heartbeat(hb, applied, applyError, points(o));
            return Response.ok(Views.HeartbeatAnswer.of(hb.componentId(), answer)).build();
        });
    }

    /** A heartbeat posted by a JAAS user (tests and harnesses outside OSGi). */
    public Response post(String body) {
        return post(body, null);
    }

    @GET
    @Path("{componentId}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "The latest heartbeat of a component", response = Views.HeartbeatView.class)
    public Response get(@PathParam("componentId") String componentId) {
        return Rest.answer(() -> Response.ok(Views.HeartbeatView.of(server.latestHeartbeat(componentId))).build());
    }

    /** The recovery points of a master target's heartbeat, or null when it carries none. */
    static ConfigServer.PointsReport points(ObjectNode o) {
        ObjectNode p = Rest.objectField(o, "", "points", POINTS, false);
        if (p == null) {
            return null;
        }
        Instant oldest = p.hasNonNull("oldest") ? instant("points.oldest", Rest.requiredString(p, "points.", "oldest"))
                : null;
        ArrayNode array = Rest.arrayField(p, "points.", "items", MAX_POINTS);
        List<MirroredPoint> items = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String at = "points.items[" + i + "].";
            if (!array.get(i).isObject()) {
                throw ConfigServerException.invalid("points.items[" + i + "]", "points.items[" + i + "] must be an object");
            }
            ObjectNode n = Rest.onlyFields((ObjectNode) array.get(i), at, POINT);
            String id = Rest.requiredString(n, at, "id");
            String group = Rest.requiredString(n, at, "group");
            String kind = Rest.requiredString(n, at, "kind");
            String tag = Rest.optionalString(n, at, "tag", null);
            if (id.isEmpty() || id.length() > 128) {
                throw ConfigServerException.invalid(at + "id", at + "id must be 1-128 characters");
            }
            if (!org.secondsite.configserver.internal.catalogue.Policy.ID.matcher(group).matches()) {
                throw ConfigServerException.invalid(at + "group", at + "group '" + group + "' is not a group id");
            }
            if (!MirroredPoint.KINDS.contains(kind)) {
                throw ConfigServerException.invalid(at + "kind", at + "kind must be crash or app, was '" + kind + "'");
            }
            if (tag != null && tag.length() > 200) {
                throw ConfigServerException.invalid(at + "tag", at + "tag is longer than 200 characters");
            }
            items.add(new MirroredPoint(id, group, instant(at + "time", Rest.requiredString(n, at, "time")), kind, tag,
                    null));
        }
        if (oldest == null && !items.isEmpty()) {
            throw ConfigServerException.invalid("points.oldest", "points.oldest is required when points are listed");
        }
        return new ConfigServer.PointsReport(oldest, items);
    }

    private static Instant instant(String field, String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ConfigServerException.invalid(field, field + " '" + (text.length() > 40 ? text.substring(0, 40) + "..."
                    : text) + "' is not an ISO-8601 instant such as 2030-01-01T12:00:00Z");
        }
    }

    /** A heartbeat from a request body: types checked here, ranges by {@link Heartbeat#validate}. */
    static Heartbeat parse(String body) {
        return parse(Rest.object(body, FIELDS, MAX_BODY_CHARS));
    }

    private static Heartbeat parse(ObjectNode o) {
        String componentId = Rest.requiredString(o, "componentId");
        String timeText = Rest.requiredString(o, "time");
        Instant time = instant("time", timeText);
        ObjectNode m = Rest.objectField(o, "", "metrics", METRICS, true);
        String mp = "metrics.";
        long backlog = Rest.requiredLong(m, mp, "backlogBytes");
        Double spool = Rest.optionalDouble(m, mp, "spoolFreePercent");
        Double cpu = Rest.optionalDouble(m, mp, "cpuLoad");
        JsonNode mem = m.get("memoryUsedBytes");
        Long memory = mem == null || mem.isNull() ? null : Rest.optionalLong(m, mp, "memoryUsedBytes", 0);
        ArrayNode array = Rest.arrayField(m, mp, "disks", Heartbeat.MAX_DISKS);
        List<Heartbeat.Disk> disks = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String dp = mp + "disks[" + i + "].";
            JsonNode n = array.get(i);
            if (!n.isObject()) {
                throw ConfigServerException.invalid(mp + "disks[" + i + "]", mp + "disks[" + i + "] must be an object");
            }
            ObjectNode d = Rest.onlyFields((ObjectNode) n, dp, DISK);
            disks.add(new Heartbeat.Disk(Rest.requiredString(d, dp, "diskId"), Rest.requiredLong(d, dp, "rpoSeconds"),
                    Rest.optionalLong(d, dp, "backlogBytes", 0), Rest.optionalLong(d, dp, "throughputBytesPerSecond", 0),
                    Rest.requiredString(d, dp, "state"), Rest.optionalBoolean(d, dp, "resyncRequired", false),
                    d.has("resyncPercent") && !d.get("resyncPercent").isNull()
                            ? Rest.toInt(dp + "resyncPercent", Rest.optionalLong(d, dp, "resyncPercent", 0)) : null));
        }
        return new Heartbeat(componentId, time, backlog, spool, cpu, memory, disks);
    }
}
