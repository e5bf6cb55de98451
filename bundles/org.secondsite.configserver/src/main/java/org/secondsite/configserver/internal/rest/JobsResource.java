package org.secondsite.configserver.internal.rest;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
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
import org.secondsite.appliance.rest.ApiDoc;
import org.secondsite.configserver.internal.ConfigServer;
import org.secondsite.configserver.internal.ConfigServerService;

/**
 * {@code /api/v1/jobs}: protection jobs newest first ({@code ?machine=&state=&offset=&limit=}) and
 * one job with its steps. Viewers read; jobs are started through {@code /machines}.
 */
@Component(service = JobsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("jobs")
public class JobsResource {
    private final ConfigServer server;

    @Activate
    public JobsResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    JobsResource(ConfigServer server) {
        this.server = server;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Protection jobs newest first (?machine=&state=)", response = Views.PageView.class)
    public Response list(@QueryParam("machine") String machine, @QueryParam("state") String state,
                         @QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(Views.PageView.of(server.jobs(empty(machine), empty(state), offset, limit),
                Views.JobView::of)).build());
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "One job with its steps", response = Views.JobView.class)
    public Response get(@PathParam("id") long id) {
        return Rest.answer(() -> Response.ok(Views.JobView.of(server.job(id))).build());
    }

    private static String empty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
