package org.secondsite.configserver.internal.rest;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DefaultValue;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
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
import org.secondsite.configserver.internal.ConfigServerException;

/**
 * {@code /api/v1/alerts}: alerts newest first (viewer; paged, {@code ?active=true} for the ones not
 * cleared), one alert by id (viewer), and {@code POST /{id}/acknowledge} (operator; audited).
 */
@Component(service = AlertsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("alerts")
public class AlertsResource {
    private final ConfigServer server;

    @Activate
    public AlertsResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    AlertsResource(ConfigServer server) {
        this.server = server;
    }

    /**
     * For harnesses that host the resource outside OSGi (benchmarks/controlplane). A factory, not a
     * second public constructor: SCR picks the activation constructor among the public ones.
     */
    public static AlertsResource on(ConfigServer server) {
        return new AlertsResource(server);
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Alerts newest first (?active=true: only active ones)", response = Views.PageView.class)
    public Response list(@QueryParam("active") @DefaultValue("false") String active,
                         @QueryParam("offset") @DefaultValue("0") int offset,
                         @QueryParam("limit") @DefaultValue("50") int limit) {
        return Rest.answer(() -> {
            boolean activeOnly = switch (active) {
                case "true" -> true;
                case "false" -> false;
                default -> throw ConfigServerException.invalid("active", "active must be true or false, was '"
                        + (active.length() > 20 ? active.substring(0, 20) + "..." : active) + "'");
            };
            return Response.ok(Views.PageView.of(server.alerts(activeOnly, offset, limit), Views.EventView::of))
                    .build();
        });
    }

    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "One alert", response = Views.EventView.class)
    public Response get(@PathParam("id") String id) {
        return Rest.answer(() -> Response.ok(Views.EventView.of(server.alert(id(id)))).build());
    }

    @POST
    @Path("{id}/acknowledge")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_OPERATOR)
    @ApiDoc(summary = "Acknowledge an alert (once; audited)", response = Views.EventView.class)
    public Response acknowledge(@PathParam("id") String id, @Context SecurityContext security) {
        return Rest.answer(() -> Response.ok(Views.EventView.of(server.acknowledgeAlert(id(id),
                Rest.user(security)))).build());
    }

    /** Alert ids are numbers; anything else names no alert (404). */
    static long id(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw ConfigServerException.notFound("no alert '" + (id.length() > 40 ? id.substring(0, 40) + "..." : id)
                    + "'");
        }
    }
}
