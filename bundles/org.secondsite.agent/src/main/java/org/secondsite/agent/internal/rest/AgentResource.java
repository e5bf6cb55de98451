package org.secondsite.agent.internal.rest;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.TagResult;
import org.secondsite.agent.internal.VerifyReport;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;
import org.secondsite.appliance.rest.ApiDoc;
import org.secondsite.appliance.rest.JsonFields;

/**
 * {@code /api/v1/agent}: this agent's consistency groups and disks, and the operations of
 * {@code dr:tag}, {@code dr:verify} and {@code dr:resync}. Viewers read; operators act. Bad input
 * is a 400 naming the field, an unknown group or disk a 404, a refused tag or a verification that
 * cannot start now a 409, all as problem details.
 */
@Component(service = AgentResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("agent")
@ApiDoc(summary = "The agent: consistency groups, tags, verification and resync of protected disks")
public class AgentResource {
    /** A consistency group with its disks protected here. */
    public record Group(String id, List<String> disks) {
    }

    /** A tag's outcome. */
    public record Tag(String status, String group, String name, String kind, String id, String time, List<String> disks,
                      long holdMicros, String message, List<Hook> hooks) {
        static Tag of(TagResult r) {
            return new Tag(r.status().name().toLowerCase(), r.group() == null ? null : r.group().value(), r.name(),
                    r.kind() == null ? null : r.kind().name().toLowerCase(), r.tagId() == null ? null : r.tagId().toString(),
                    r.time() == null ? null : r.time().toString(), r.disks().stream().map(DiskId::value).toList(),
                    r.hold() == null ? 0 : r.hold().toNanos() / 1000, r.message(),
                    r.hooks().stream().map(h -> new Hook(h.phase(), h.command(), h.exitCode(), h.timedOut(),
                            h.took().toMillis(), h.output())).toList());
        }
    }

    /** One hook run of a tag. */
    public record Hook(String phase, String command, int exitCode, boolean timedOut, long millis, String output) {
    }

    /** A verification's report. */
    public record Verification(String disk, String mode, String outcome, String reason, long bytesCompared,
                               List<long[]> mismatched, long mismatchedBytes, List<long[]> skipped, long repairedBytes,
                               String started, long durationMillis) {
        static Verification of(VerifyReport r) {
            return new Verification(r.disk().value(), r.mode().name().toLowerCase().replace('_', '-'),
                    r.outcome().name().toLowerCase(), r.reason(), r.bytesCompared(),
                    r.mismatched().stream().map(x -> new long[] {x.offset(), x.length()}).toList(), r.mismatchBytes(),
                    r.skipped().stream().map(x -> new long[] {x.offset(), x.length()}).toList(), r.repairedBytes(),
                    r.started().toString(), r.duration().toMillis());
        }
    }

    private final AgentService agent;

    @Activate
    public AgentResource(@Reference AgentService agent) {
        this.agent = agent;
    }

    @GET
    @Path("groups")
    @ApiDoc(summary = "Consistency groups with their disks protected here")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public List<Group> groups() {
        return agent.groups().stream().map(g -> new Group(g.value(), agent.protectedDisks().stream()
                .filter(d -> agent.groupOf(d).map(g::equals).orElse(false)).map(DiskId::value).toList())).toList();
    }

    /** Body: {@code {"name": "before-upgrade", "kind": "application" | "bookmark"}} (kind defaults to bookmark). */
    @POST
    @Path("groups/{group}/tags")
    @ApiDoc(summary = "Tag a consistency group", description = "Body: `{\"name\": \"before-upgrade\", \"kind\": "
            + "\"application\" | \"bookmark\"}` (kind defaults to bookmark). 201 with the tag; a refused tag is 409 "
            + "with the same body (its status and message say why).", status = 201, response = AgentResource.Tag.class)
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response tag(@PathParam("group") String group, Map<String, Object> body) {
        GroupId g = known(group);
        JsonFields f = new JsonFields(body, Set.of("name", "kind"));
        String name = f.required("name");
        TagKind k = f.choice("kind", Set.of("bookmark", "application"), "bookmark").equals("application")
                ? TagKind.APPLICATION : TagKind.BOOKMARK;
        TagResult r = agent.tag(g, name, k);
        return Response.status(r.ok() ? 201 : 409).entity(Tag.of(r)).build();
    }

    /** Body: {@code {"mode": "verify" | "verify-and-repair" | "repair"}} (default verify). */
    @POST
    @Path("disks/{disk}/verification")
    @ApiDoc(summary = "Start verifying a protected disk against its replica", description = "Body: `{\"mode\": "
            + "\"verify\" | \"verify-and-repair\" | \"repair\"}` (default verify). 202: the report follows at "
            + "GET of the same path.", status = 202)
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response verify(@PathParam("disk") String disk, Map<String, Object> body) throws IOException {
        DiskId d = protectedDisk(disk);
        String mode = new JsonFields(body, Set.of("mode")).choice("mode",
                Set.of("verify", "verify-and-repair", "repair"), "verify");
        VerifyReport.Mode m = VerifyReport.Mode.valueOf(mode.toUpperCase().replace('-', '_'));
        agent.verify(d, m);
        return Response.accepted().build();
    }

    @GET
    @Path("disks/{disk}/verification")
    @ApiDoc(summary = "The last finished verification of a disk (404 while there is none)")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Verification verification(@PathParam("disk") String disk) {
        DiskId d = protectedDisk(disk);
        return agent.verifyReport(d).map(Verification::of)
                .orElseThrow(() -> new NoSuchElementException("disk " + d + " has no finished verification"));
    }

    /** Body: {@code {"reason": "replica restored from a backup"}} (optional). */
    @POST
    @Path("disks/{disk}/resync")
    @ApiDoc(summary = "Request a resync of a protected disk", description = "Body: `{\"reason\": \"...\"}` "
            + "(optional). 202: the resync runs in the background; its progress shows in GET /replication.",
            status = 202)
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    public Response resync(@PathParam("disk") String disk, Map<String, Object> body) throws IOException {
        DiskId d = protectedDisk(disk);
        String reason = new JsonFields(body, Set.of("reason")).optional("reason").orElse("operator request (REST)");
        agent.requestResync(d, reason);
        return Response.accepted().build();
    }

    private GroupId known(String group) {
        GroupId g;
        try {
            g = GroupId.of(group);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("group '" + group + "': " + e.getMessage());
        }
        if (!agent.groups().contains(g)) {
            throw new NoSuchElementException("no consistency group '" + group + "' on this agent; groups: "
                    + agent.groups());
        }
        return g;
    }

    private DiskId protectedDisk(String disk) {
        DiskId d;
        try {
            d = DiskId.of(disk);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("disk '" + disk + "': " + e.getMessage());
        }
        if (!agent.protectedDisks().contains(d)) {
            throw new NoSuchElementException("disk " + d + " is not protected by this agent");
        }
        return d;
    }
}
