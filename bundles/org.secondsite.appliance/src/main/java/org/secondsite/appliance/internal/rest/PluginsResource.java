package org.secondsite.appliance.internal.rest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.PathParam;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.apache.karaf.features.FeaturesService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.api.appliance.ExtensionPoint;
import org.secondsite.api.appliance.PluginInfo;
import org.secondsite.appliance.rest.ApiDoc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/plugins}: every extension point, each with the plugins registered for it now
 * (name, bundle, bundle version and state), in the order of {@link ExtensionPoint}; an extension
 * point without a plugin is listed with none.
 *
 * <p>{@code /api/v1/plugins/features}: the plugin features of the SecondSite repository (the
 * allow-list of {@link PluginFeatures}) with whether they are installed; admins install
 * ({@code POST /features/{name}}) and uninstall ({@code DELETE}) them at run time. Each attempt is
 * written to the log with the user who made it.
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

    private static final Logger LOG = LoggerFactory.getLogger(PluginsResource.class);

    private final Appliance appliance;
    /** The plugin features on Karaf's features service, or null while that service is away. */
    private final Supplier<PluginFeatures> features;
    /**
     * Karaf's features service, bound dynamically (as ApplianceService does): Karaf re-registers it
     * during boot, and a static reference would re-create this resource at that moment.
     */
    private volatile FeaturesService featuresService;

    @Activate
    public PluginsResource(@Reference Appliance appliance) {
        this.appliance = appliance;
        this.features = () -> {
            FeaturesService f = featuresService;
            return f == null ? null : new PluginFeatures(new KarafFeatureCatalog(f));
        };
    }

    /** For tests: the plugin features on a given catalog. */
    PluginsResource(Appliance appliance, FeatureCatalog catalog) {
        this.appliance = appliance;
        this.features = () -> new PluginFeatures(catalog);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindFeaturesService(FeaturesService f) {
        featuresService = f;
    }

    void unbindFeaturesService(FeaturesService f) {
        if (featuresService == f) {
            featuresService = null;
        }
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public Plugins list() {
        return group(appliance.plugins());
    }

    @GET
    @Path("features")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    @ApiDoc(summary = "Plugin features that admins may install or uninstall, with whether they are installed",
            description = "The allow-list: " + PluginFeatures.RULE_TEXT + ". `requiredBy` names the top-level "
                    + "requirements (a role, another installed feature) that include a feature, with the path.",
            response = PluginFeatures.Listing.class, errors = 503)
    public Response features() {
        return answer(null, "list", null, PluginFeatures::list);
    }

    @POST
    @Path("features/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Install a plugin feature (hot swap; audited)", description = "404 for a name outside the "
            + "allow-list; installing an installed feature makes it a top-level requirement and changes nothing else.",
            response = PluginFeatures.View.class, errors = 503)
    public Response install(@PathParam("name") String name, @Context SecurityContext security) {
        return answer(security, "install", name, f -> f.install(name));
    }

    @DELETE
    @Path("features/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Appliance.ROLE_ADMIN)
    @ApiDoc(summary = "Uninstall a plugin feature (hot swap; audited)", description = "404 for a name outside the "
            + "allow-list; 409 when a role or another installed feature requires it, or it is not installed by name.",
            status = 200, response = PluginFeatures.View.class, errors = 503)
    public Response uninstall(@PathParam("name") String name, @Context SecurityContext security) {
        return answer(security, "uninstall", name, f -> f.uninstall(name));
    }

    private interface Op {
        Object run(PluginFeatures f) throws Exception;
    }

    private Response answer(SecurityContext security, String action, String name, Op op) {
        String user = security == null || security.getUserPrincipal() == null ? null
                : security.getUserPrincipal().getName();
        PluginFeatures f = features.get();
        if (f == null) {
            return Problems.response(Response.Status.SERVICE_UNAVAILABLE,
                    "Karaf's features service is not available; try again in a moment").build();
        }
        try {
            Object result = op.run(f);
            if (user != null) {
                LOG.info("Audit: user '{}' {}ed plugin feature '{}'", user, action, name);
            }
            return Response.ok(result).build();
        } catch (PluginFeatures.Refusal e) {
            if (user != null) {
                LOG.info("Audit: user '{}' was refused to {} plugin feature '{}': {}", user, action, name,
                        e.getMessage());
            }
            return Problems.response(Response.Status.fromStatusCode(e.status), e.getMessage()).build();
        } catch (Exception e) {
            LOG.warn("Audit: user '{}' could not {} plugin feature '{}'", user, action, name, e);
            return Problems.response(Response.Status.INTERNAL_SERVER_ERROR, "Karaf could not " + action
                    + (name == null ? " the plugin features" : " plugin feature '" + name + "'") + ": " + e.getMessage())
                    .build();
        }
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
