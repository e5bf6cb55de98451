package org.secondsite.configserver.internal.rest;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.QueryParam;
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
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.ConfigServerException;
import org.secondsite.configserver.internal.ConfigServerService;
import org.secondsite.configserver.internal.protection.Job;
import org.secondsite.configserver.internal.protection.Machine;
import org.secondsite.configserver.internal.protection.ProtectRequest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code /api/v1/machines}: protected machines. Viewers read; operators protect, unprotect, resync
 * and change a machine's policy. Each of those starts a job (202 with the job and its
 * {@code Location}); a second job for a machine while one runs is 409.
 */
@Component(service = MachinesResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("machines")
public class MachinesResource {
    static final Set<String> PROTECT = Set.of("name", "kind", "agentId", "processServerId", "masterTargetId",
            "policyId", "group", "disks");
    static final Set<String> DISK = Set.of("diskId", "source", "driver", "sizeBytes", "options");
    static final Set<String> RESYNC = Set.of("disks");
    static final Set<String> POLICY = Set.of("policyId");

    private final ConfigServer server;

    @Activate
    public MachinesResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    MachinesResource(ConfigServer server) {
        this.server = server;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Machines and their protection", response = Views.PageView.class)
    public Response list(@QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(Views.PageView.of(server.machines(offset, limit), Views.MachineView::of))
                .build());
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "One machine with its disks", response = Views.MachineView.class)
    public Response get(@PathParam("id") String id) {
        return Rest.answer(() -> Response.ok(Views.MachineView.of(server.machine(id))).build());
    }

    @GET
    @Path("{id}/points")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "The machine's recovery points as mirrored from its master target, newest first",
            response = Views.PageView.class)
    public Response points(@PathParam("id") String id, @QueryParam("offset") @DefaultValue("0") int offset,
                           @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(Views.PageView.of(server.points(id, offset, limit), Views.PointView::of))
                .build());
    }

    @POST
    @Path("{id}/protect")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    @ApiDoc(summary = "Protect a machine: starts a protect job", description = "Body: {agentId, processServerId, masterTargetId, policyId, name?, kind?, group?, disks: [{diskId, source, driver?, sizeBytes?, options?: {captureOption: value}}]}. 202 with the job; 409 while another job of the machine runs.", status = 202, response = Views.JobView.class)
    public Response protect(@PathParam("id") String id, String body, @Context SecurityContext security) {
        return Rest.answer(() -> accepted(server.protect(parseProtect(id, body), Rest.user(security))));
    }

    @POST
    @Path("{id}/unprotect")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    @ApiDoc(summary = "Stop replicating a machine: starts an unprotect job (replicas stay)", status = 202, response = Views.JobView.class)
    public Response unprotect(@PathParam("id") String id, @Context SecurityContext security) {
        return Rest.answer(() -> accepted(server.unprotect(id, Rest.user(security))));
    }

    @POST
    @Path("{id}/resync")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    @ApiDoc(summary = "Resynchronise disks of a protected machine: starts a resync job", description = "Body (optional): {disks: [diskId...]}; all disks when absent.", status = 202, response = Views.JobView.class)
    public Response resync(@PathParam("id") String id, String body, @Context SecurityContext security) {
        return Rest.answer(() -> {
            List<String> disks = new ArrayList<>();
            if (body != null && !body.isBlank()) {
                ArrayNode a = Rest.arrayField(Rest.object(body, RESYNC), "", "disks", ProtectRequest.MAX_DISKS);
                for (int i = 0; i < a.size(); i++) {
                    if (!a.get(i).isTextual()) {
                        throw ConfigServerException.invalid("disks[" + i + "]", "disks[" + i + "] must be a disk id");
                    }
                    disks.add(a.get(i).asText());
                }
            }
            return accepted(server.resync(id, disks, Rest.user(security)));
        });
    }

    @PUT
    @Path("{id}/policy")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    @ApiDoc(summary = "Give a machine another policy: starts a change-policy job", description = "Body: {policyId}.", status = 202, response = Views.JobView.class)
    public Response changePolicy(@PathParam("id") String id, String body, @Context SecurityContext security) {
        return Rest.answer(() -> accepted(server.changePolicy(id,
                Rest.requiredString(Rest.object(body, POLICY), "policyId"), Rest.user(security))));
    }

    private static Response accepted(Job job) {
        return Response.accepted(Views.JobView.of(job)).location(URI.create("jobs/" + job.id())).build();
    }

    /** A protect request from a body; the machine id comes from the path. */
    static ProtectRequest parseProtect(String machineId, String body) {
        ObjectNode o = Rest.object(body, PROTECT);
        ArrayNode array = Rest.arrayField(o, "", "disks", ProtectRequest.MAX_DISKS);
        List<Machine.Disk> disks = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String at = "disks[" + i + "].";
            JsonNode n = array.get(i);
            if (!n.isObject()) {
                throw ConfigServerException.invalid("disks[" + i + "]", "disks[" + i + "] must be an object");
            }
            ObjectNode d = Rest.onlyFields((ObjectNode) n, at, DISK);
            Map<String, String> options = new LinkedHashMap<>();
            ObjectNode opts = Rest.objectField(d, at, "options", null, false);
            if (opts != null) {
                opts.fields().forEachRemaining(e -> {
                    if (!e.getValue().isTextual()) {
                        throw ConfigServerException.invalid(at + "options." + e.getKey(), at + "options." + e.getKey()
                                + " must be a string");
                    }
                    options.put(e.getKey(), e.getValue().asText());
                });
            }
            disks.add(new Machine.Disk(Rest.requiredString(d, at, "diskId"), Rest.requiredString(d, at, "source"),
                    Rest.optionalString(d, at, "driver", "nbd"), options, Rest.optionalLong(d, at, "sizeBytes", 0), 0));
        }
        return new ProtectRequest(machineId, Rest.optionalString(o, "name", null), Rest.optionalString(o, "kind", null),
                Rest.requiredString(o, "agentId"), Rest.requiredString(o, "processServerId"),
                Rest.requiredString(o, "masterTargetId"), Rest.requiredString(o, "policyId"),
                Rest.optionalString(o, "group", null), disks);
    }
}
