package org.secondsite.configserver.internal.rest;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DELETE;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
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
import org.secondsite.configserver.internal.ConfigServerService;

/**
 * {@code /api/v1/components}: registered (and removed) components. Viewers list them (paged:
 * {@code ?offset=&limit=}, with the total); admins remove one, which revokes its certificate.
 */
@Component(service = ComponentsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("components")
public class ComponentsResource {
    private final ConfigServer server;

    @Activate
    public ComponentsResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    ComponentsResource(ConfigServer server) {
        this.server = server;
    }

    /**
     * For harnesses that host the resource outside OSGi (benchmarks/controlplane). A factory, not a
     * second public constructor: SCR picks the activation constructor among the public ones.
     */
    public static ComponentsResource on(ConfigServer server) {
        return new ComponentsResource(server);
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Registered and removed components", response = Views.PageView.class)
    public Response list(@QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(
                Views.PageView.of(server.components(offset, limit), Views.ComponentView::of)).build());
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "One component", response = Views.ComponentView.class)
    public Response get(@PathParam("id") String id) {
        return Rest.answer(() -> Response.ok(Views.ComponentView.of(server.component(id))).build());
    }

    @DELETE
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Remove a component and revoke its certificate", response = Views.ComponentView.class)
    public Response remove(@PathParam("id") String id, @Context SecurityContext security) {
        return Rest.answer(() -> {
            server.removeComponent(id, Rest.user(security));
            return Response.noContent().build();
        });
    }
}
