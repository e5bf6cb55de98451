package org.secondsite.mastertarget.internal.rest;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.RecoveryPoint;
import org.secondsite.appliance.rest.ApiDoc;
import org.secondsite.appliance.rest.JsonFields;
import org.secondsite.mastertarget.internal.MasterTargetComponent;
import org.secondsite.mastertarget.internal.recovery.Recovery;
import org.secondsite.mastertarget.internal.retention.PointDetail;
import org.secondsite.mastertarget.internal.retention.RetentionStatus;

/**
 * {@code /api/v1/recovery}: the master target's recovery points, their exports (NBD, read-only
 * or test failover) and raw image copies; the same operations as {@code dr:points},
 * {@code dr:export}, {@code dr:discard}, {@code dr:recover}. Viewers read; operators act. Errors
 * are problem details (bad input 400 naming the field, unknown point or export 404).
 */
@Component(service = RecoveryResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("recovery")
@ApiDoc(summary = "The master target's recovery points, their exports and image copies")
public class RecoveryResource {
    /** A point as JSON. */
    public record Point(String id, String group, String time, String kind, String tag, Map<String, Long> disks) {
        static Point of(RecoveryPoint p, Map<String, Long> disks) {
            return new Point(p.id(), p.group().value(), p.time().toString(), p.kind().name().toLowerCase().replace('_', '-'),
                    p.tag().orElse(null), disks);
        }
    }

    /** The retention journal as JSON. */
    public record Retention(long windowSeconds, long capBytes, long usedBytes, int segments, int points, String oldest,
                            String newest, int openViews) {
        static Retention of(RetentionStatus r) {
            return new Retention(r.settings().window().toSeconds(), r.settings().capBytes(), r.usedBytes(), r.segments(),
                    r.points(), r.oldest().map(RecoveryPoint::id).orElse(null),
                    r.newest().map(RecoveryPoint::id).orElse(null), r.openViews());
        }
    }

    /** An export as JSON. */
    public record Export(String name, String exportName, String point, String disk, String mode, String uri,
                         String created, long scratchBytes) {
        static Export of(Recovery.ExportInfo e) {
            return new Export(e.name(), e.exportName(), e.pointId(), e.disk().value(),
                    e.mode().name().toLowerCase().replace('_', '-'), e.uri(), e.created().toString(), e.scratchBytes());
        }
    }

    /** An image copy as JSON. */
    public record Copy(long id, String point, String disk, String file, long doneBytes, long totalBytes, double percent,
                       String state, String message, String started, String finished) {
        static Copy of(Recovery.CopyInfo c) {
            return new Copy(c.id(), c.pointId(), c.disk().value(), c.target().toString(), c.doneBytes(), c.totalBytes(),
                    c.percent(), c.state(), c.message(), c.started().toString(),
                    c.finished() == null ? null : c.finished().toString());
        }
    }

    private static final Set<String> EXPORT_FIELDS = Set.of("name", "point", "disk", "writable");
    private static final Set<String> COPY_FIELDS = Set.of("point", "disk", "file");

    private final MasterTargetComponent masterTarget;

    @Activate
    public RecoveryResource(@Reference MasterTargetComponent masterTarget) {
        this.masterTarget = masterTarget;
    }

    @GET
    @Path("points")
    @ApiDoc(summary = "Recovery points, oldest first, optionally of one consistency group")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public List<Point> points(@QueryParam("group") String group) throws IOException {
        Optional<GroupId> g = group == null || group.isEmpty() ? Optional.empty() : Optional.of(groupId(group));
        return masterTarget.masterTarget().points(g).stream().map(p -> Point.of(p, null)).toList();
    }

    @GET
    @Path("points/{id}")
    @ApiDoc(summary = "One recovery point with the sequence of each of its disks")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Point point(@PathParam("id") String id) throws IOException {
        PointDetail d = masterTarget.masterTarget().point(id);
        Map<String, Long> disks = new LinkedHashMap<>();
        d.sequences().forEach((disk, seq) -> disks.put(disk.value(), seq));
        return Point.of(d.point(), disks);
    }

    @GET
    @Path("retention")
    @ApiDoc(summary = "The retention journal: window, space, points, oldest and newest")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Retention retention() throws IOException {
        return Retention.of(masterTarget.masterTarget().retention());
    }

    @GET
    @Path("exports")
    @ApiDoc(summary = "Exports of recovery points being served over NBD")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public List<Export> exports() {
        return masterTarget.recovery().exports().stream().map(Export::of).toList();
    }

    /** Body: {@code {"name": "...", "point": "...", "disk": "optional", "writable": false}}. */
    @POST
    @Path("exports")
    @ApiDoc(summary = "Export a recovery point over NBD", description = "Body: `{\"name\": \"...\", \"point\": "
            + "\"...\", \"disk\": \"optional\", \"writable\": false}`; writable exports are test failovers on a "
            + "scratch overlay. 201 with one export per disk.", status = 201, response = RecoveryResource.Export[].class,
            errors = 404)
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response export(Map<String, Object> body) throws IOException {
        JsonFields f = new JsonFields(body, EXPORT_FIELDS);
        String name = f.required("name");
        Optional<DiskId> disk = f.optional("disk").map(v -> diskId("disk", v));
        List<Recovery.ExportInfo> created = masterTarget.recovery().export(name, f.required("point"), disk,
                f.flag("writable") ? Recovery.Mode.TEST_FAILOVER : Recovery.Mode.READ_ONLY);
        return Response.created(URI.create("recovery/exports/" + name))
                .entity(created.stream().map(Export::of).toList()).build();
    }

    @DELETE
    @Path("exports/{name}")
    @ApiDoc(summary = "End an export (a test failover's writes are discarded)")
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response discard(@PathParam("name") String name) {
        if (masterTarget.recovery().exports().stream().noneMatch(e -> e.name().equals(name))) {
            throw new java.util.NoSuchElementException("no export named '" + name + "'");
        }
        masterTarget.recovery().discard(name);
        return Response.noContent().build();
    }

    @GET
    @Path("copies")
    @ApiDoc(summary = "Image copies of recovery points, running and finished")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public List<Copy> copies() {
        return masterTarget.recovery().copies().stream().map(Copy::of).toList();
    }

    /** Body: {@code {"point": "...", "disk": "...", "file": "/absolute/path.raw"}}. */
    @POST
    @Path("copies")
    @ApiDoc(summary = "Copy a disk at a recovery point to a raw image file", description = "Body: `{\"point\": "
            + "\"...\", \"disk\": \"...\", \"file\": \"/absolute/path.raw\"}`. 202: the copy runs in the "
            + "background; GET /recovery/copies follows it.", status = 202, response = RecoveryResource.Copy.class,
            errors = 404)
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response copy(Map<String, Object> body) throws IOException {
        JsonFields f = new JsonFields(body, COPY_FIELDS);
        String file = f.required("file");
        if (!Paths.get(file).isAbsolute()) {
            throw new IllegalArgumentException("field 'file': must be an absolute path, got '" + file + "'");
        }
        Recovery.CopyInfo c = masterTarget.recovery().copy(f.required("point"), diskId("disk", f.required("disk")),
                Paths.get(file));
        return Response.accepted(Copy.of(c)).build();
    }

    private static DiskId diskId(String field, String v) {
        try {
            return DiskId.of(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field '" + field + "': " + e.getMessage());
        }
    }

    private static GroupId groupId(String v) {
        try {
            return GroupId.of(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("query parameter 'group': " + e.getMessage());
        }
    }
}
