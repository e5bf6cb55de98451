package org.secondsite.appliance.internal.rest;

import java.util.ArrayList;
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
import org.secondsite.api.appliance.ExtensionPoint;
import org.secondsite.api.appliance.PluginInfo;

/**
 * {@code GET /api/v1/plugins}: every extension point, each with the plugins registered for it now
 * (name, bundle, bundle version and state), in the order of {@link ExtensionPoint}; an extension
 * point without a plugin is listed with none.
 */
@Component(service = PluginsResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("plugins")
public class PluginsResource {
    /** An extension point: its id, the service interface plugins register, the identity property. */
    public record Point(String id, String service, String property, List<Plugin> plugins) {
    }

    /** One registered plugin. */
    public record Plugin(String name, String bundle, String version, String state) {
    }

    /** The answer. */
    public record Plugins(List<Point> extensionPoints, int total) {
    }

    private final Appliance appliance;

    @Activate
    public PluginsResource(@Reference Appliance appliance) {
        this.appliance = appliance;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Plugins list() {
        return group(appliance.plugins());
    }

    static Plugins group(List<PluginInfo> plugins) {
        List<Point> points = new ArrayList<>();
        for (ExtensionPoint p : ExtensionPoint.values()) {
            List<Plugin> mine = plugins.stream().filter(i -> i.point() == p)
                    .sorted(java.util.Comparator.comparing(PluginInfo::name).thenComparing(PluginInfo::bundle))
                    .map(i -> new Plugin(i.name(), i.bundle(), i.version(), i.state())).toList();
            points.add(new Point(p.id(), p.service().getName(), p.property(), mine));
        }
        return new Plugins(points, plugins.size());
    }
}
