package org.secondsite.configserver.internal.rest;

import java.net.URI;
import java.util.Set;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
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
import org.secondsite.configserver.internal.catalogue.Policy;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code /api/v1/policies}: replication policies. Viewers read; admins create, replace and delete.
 * Lists are paged ({@code ?offset=&limit=}, with the total).
 */
@Component(service = PoliciesResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("policies")
public class PoliciesResource {
    static final Set<String> FIELDS = Set.of("id", "rpoThresholdSeconds", "checkpointIntervalSeconds",
            "retentionWindowSeconds", "retentionSpaceBytes", "appConsistencySchedule", "compressor",
            "bandwidthSchedule");

    private final ConfigServer server;

    @Activate
    public PoliciesResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    PoliciesResource(ConfigServer server) {
        this.server = server;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Replication policies", response = Views.PageView.class)
    public Response list(@QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(Views.PageView.of(server.policies(offset, limit), Views.PolicyView::of))
                .build());
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "One policy", response = Views.PolicyView.class)
    public Response get(@PathParam("id") String id) {
        return Rest.answer(() -> Response.ok(Views.PolicyView.of(server.policy(id))).build());
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Create a policy", status = 201, response = Views.PolicyView.class)
    public Response create(String body, @Context SecurityContext security) {
        return Rest.answer(() -> {
            Policy p = server.createPolicy(parse(body, null), Rest.user(security));
            return Response.created(URI.create("policies/" + p.id())).entity(Views.PolicyView.of(p)).build();
        });
    }

    @PUT
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Replace a policy; pushed live to the components replicating under it", response = Views.PolicyView.class)
    public Response replace(@PathParam("id") String id, String body, @Context SecurityContext security) {
        return Rest.answer(() -> Response.ok(Views.PolicyView.of(
                server.updatePolicy(parse(body, id), Rest.user(security)))).build());
    }

    @DELETE
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Delete a policy no machine uses")
    public Response delete(@PathParam("id") String id, @Context SecurityContext security) {
        return Rest.answer(() -> {
            server.deletePolicy(id, Rest.user(security));
            return Response.noContent().build();
        });
    }

    /** A policy from a request body; {@code pathId} (PUT) must agree with an {@code id} in the body. */
    static Policy parse(String body, String pathId) {
        ObjectNode o = Rest.object(body, FIELDS);
        String id;
        if (pathId == null) {
            id = Rest.requiredString(o, "id");
        } else {
            id = Rest.optionalString(o, "id", pathId);
            if (!id.equals(pathId)) {
                throw ConfigServerException.invalid("id", "id '" + id + "' in the body differs from '" + pathId
                        + "' in the path");
            }
        }
        return new Policy(id,
                Rest.toInt("rpoThresholdSeconds", Rest.requiredLong(o, "rpoThresholdSeconds")),
                Rest.toInt("checkpointIntervalSeconds", Rest.optionalLong(o, "checkpointIntervalSeconds",
                        Policy.DEFAULT_CHECKPOINT_INTERVAL_SECONDS)),
                Rest.requiredLong(o, "retentionWindowSeconds"),
                Rest.optionalLong(o, "retentionSpaceBytes", Policy.DEFAULT_RETENTION_SPACE_BYTES),
                Rest.optionalString(o, "appConsistencySchedule", Policy.DEFAULT_APP_CONSISTENCY_SCHEDULE),
                Rest.optionalString(o, "compressor", Policy.DEFAULT_COMPRESSOR),
                Rest.optionalString(o, "bandwidthSchedule", Policy.DEFAULT_BANDWIDTH_SCHEDULE),
                null, null);
    }
}
