package org.secondsite.appliance.internal.rest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.RoleState;
import org.secondsite.appliance.internal.ComponentHealth;
import org.secondsite.appliance.rest.ApiDoc;

/**
 * {@code GET /api/v1/health}: status ({@code OK}, or {@code DEGRADED} while the role is not applied or a
 * component does not run, with the reasons), role, version, uptime and plugins of this appliance.
 */
@Component(service = HealthResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("health")
@ApiDoc(summary = "The appliance's own health: role, version, uptime, plugins, problems")
public class HealthResource {

    /** The health document. */
    public record Health(String status, String role, String rolePhase, String roleMessage, String version,
                         String startedAt, long uptimeSeconds, List<Plugin> plugins,
                         List<ComponentHealth.Problem> problems) {
    }

    /** One plugin as the health document lists it. */
    public record Plugin(String extensionPoint, String name, String bundle, String version, String state) {
    }

    private final Appliance appliance;
    private final ComponentHealth components;

    @Activate
    public HealthResource(@Reference Appliance appliance, @Reference ComponentHealth components) {
        this.appliance = appliance;
        this.components = components;
    }

    @GET
    @ApiDoc(summary = "Health of this appliance", description = "`status` is `OK`, or `DEGRADED` while the role "
            + "is not applied or a component does not run; `problems` says which and why (a disk whose source "
            + "fails shows as `source-failed`).")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Health health() {
        RoleState rs = appliance.roleState();
        Instant started = appliance.startedAt();
        List<Plugin> plugins = appliance.plugins().stream()
                .map(p -> new Plugin(p.point().id(), p.name(), p.bundle(), p.version(), p.state()))
                .toList();
        List<ComponentHealth.Problem> problems = components.problems();
        String status = rs.phase() == RoleState.Phase.APPLIED && problems.isEmpty() ? "OK" : "DEGRADED";
        return new Health(status, rs.role().id(), rs.phase().name(), rs.message(), appliance.version(),
                started.toString(), Duration.between(started, Instant.now()).toSeconds(), plugins, problems);
    }

}
