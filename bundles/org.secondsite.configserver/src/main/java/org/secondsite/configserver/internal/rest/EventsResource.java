package org.secondsite.configserver.internal.rest;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
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

/** {@code GET /api/v1/events} (viewer): every event newest first (alerts, their clearing), paged. */
@Component(service = EventsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("events")
public class EventsResource {
    private final ConfigServer server;

    @Activate
    public EventsResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    EventsResource(ConfigServer server) {
        this.server = server;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Events newest first (alerts, their clearing, ...)", response = Views.PageView.class)
    public Response list(@QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> Response.ok(Views.PageView.of(server.events(offset, limit), Views.EventView::of))
                .build());
    }
}
