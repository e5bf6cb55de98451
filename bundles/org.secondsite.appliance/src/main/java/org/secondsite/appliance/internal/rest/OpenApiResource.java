package org.secondsite.appliance.internal.rest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

import javax.annotation.security.PermitAll;
import javax.ws.rs.GET;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Application;
import javax.ws.rs.core.MediaType;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.JaxrsWhiteboardConstants;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.rest.ApiDoc;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code GET /api/v1/openapi.json}: the OpenAPI 3.0 document of the whole REST application, built
 * from the JAX-RS resource services that select it at the moment of the request (those of plugins
 * included), by {@link OpenApiGenerator}. Open to anyone ({@code @PermitAll}): it describes the API
 * and holds no data of the appliance.
 */
@Component(service = OpenApiResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("openapi.json")
@ApiDoc(summary = "The description of this API", description = "The OpenAPI document of /api/v1, built at run time "
        + "from the resources registered now, including those that plugins add.")
public class OpenApiResource {
    static final String DESCRIPTION = """
            The REST API of a SecondSite appliance. Callers authenticate with HTTP Basic as a user of the \
            `karaf` JAAS realm; each operation lists in `x-secondsite-roles` the roles of which the caller \
            needs one (viewer reads, operator acts, admin configures; an operator also holds viewer, an admin \
            all three). Operations with `security: []` need no credentials: this document, and the \
            registration of a component, which is authenticated by the configuration server's passphrase in \
            its body instead. Components talk to each other over mutual TLS with the certificates issued at \
            registration, on their transport, not through this API. Errors are RFC 7807 problem details \
            (`application/problem+json`, schema `Problem`); request bodies are strict JSON (an unknown field \
            is a 400 naming it).""";

    private final Appliance appliance;
    private final Map<String, Object> applicationProperties = new HashMap<>();
    private final String basePath;
    private final ServiceTracker<Object, Class<?>> resources;
    private volatile Cached cached;

    private record Cached(int trackingCount, ObjectNode document) {
    }

    @Activate
    public OpenApiResource(BundleContext context, @Reference Appliance appliance,
                           @Reference(service = Application.class, target = "(" + JaxrsWhiteboardConstants.JAX_RS_NAME
                                   + "=" + Appliance.REST_APPLICATION + ")") ServiceReference<Application> application)
            throws InvalidSyntaxException {
        this.appliance = appliance;
        for (String key : application.getPropertyKeys()) {
            applicationProperties.put(key, application.getProperty(key));
        }
        this.basePath = String.valueOf(application.getProperty(JaxrsWhiteboardConstants.JAX_RS_APPLICATION_BASE));
        Filter filter = context.createFilter("(&(" + JaxrsWhiteboardConstants.JAX_RS_RESOURCE + "=true)("
                + JaxrsWhiteboardConstants.JAX_RS_APPLICATION_SELECT + "=*))");
        resources = new ServiceTracker<>(context, filter, new ServiceTrackerCustomizer<Object, Class<?>>() {
            @Override
            public Class<?> addingService(ServiceReference<Object> ref) {
                return resourceClass(context, ref);
            }

            @Override
            public void modifiedService(ServiceReference<Object> ref, Class<?> type) {
            }

            @Override
            public void removedService(ServiceReference<Object> ref, Class<?> type) {
            }
        });
        resources.open();
    }

    @Deactivate
    void deactivate() {
        resources.close();
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @PermitAll
    @ApiDoc(summary = "The OpenAPI 3.0 document of /api/v1",
            description = "Generated from the JAX-RS resources registered at the time of the request. Needs no "
                    + "credentials: it describes the API and reveals no data.")
    public ObjectNode document() {
        Cached c = cached;
        int count = resources.getTrackingCount();
        if (c == null || c.trackingCount() != count) {
            c = new Cached(count, OpenApiGenerator.generate(
                    new OpenApiGenerator.Info("SecondSite appliance", appliance.version(), DESCRIPTION),
                    basePath, selected()));
            cached = c;
        }
        return c.document();
    }

    /** The tracked resources whose application select filter matches this application, as the whiteboard decides. */
    private List<Class<?>> selected() {
        List<Class<?>> out = new ArrayList<>();
        SortedMap<ServiceReference<Object>, Class<?>> tracked = resources.getTracked();
        for (Map.Entry<ServiceReference<Object>, Class<?>> e : tracked.entrySet()) {
            if (selects(e.getKey().getProperty(JaxrsWhiteboardConstants.JAX_RS_APPLICATION_SELECT))) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /**
     * The class the whiteboard serves for a resource service: the registered class that carries
     * {@code @Path}, loaded by the registering bundle (the convention, {@code service = TheResource.class},
     * needs no call to the service, so neither this component nor a lazy one is activated by looking);
     * else the class of the service object itself. Null when the service has gone.
     */
    static Class<?> resourceClass(BundleContext context, ServiceReference<Object> ref) {
        org.osgi.framework.Bundle bundle = ref.getBundle();
        if (bundle == null) {
            return null;
        }
        Object names = ref.getProperty(org.osgi.framework.Constants.OBJECTCLASS);
        for (String name : names instanceof String[] a ? a : new String[0]) {
            try {
                Class<?> c = bundle.loadClass(name);
                if (c.isAnnotationPresent(Path.class)) {
                    return c;
                }
            } catch (ClassNotFoundException | RuntimeException | LinkageError e) {
                // Not loadable by its own bundle (an interface it imports lazily...): ask the object.
            }
        }
        Object service = context.getService(ref);
        try {
            return service == null ? null : service.getClass();
        } finally {
            if (service != null) {
                context.ungetService(ref);
            }
        }
    }

    private boolean selects(Object select) {
        List<String> filters = new ArrayList<>();
        if (select instanceof String s) {
            filters.add(s);
        } else if (select instanceof String[] a) {
            filters.addAll(List.of(a));
        } else if (select instanceof java.util.Collection<?> col) {
            col.forEach(o -> filters.add(String.valueOf(o)));
        }
        for (String f : filters) {
            try {
                if (FrameworkUtil.createFilter(f).matches(applicationProperties)) {
                    return true;
                }
            } catch (InvalidSyntaxException e) {
                // The whiteboard does not serve a resource with a malformed filter either.
            }
        }
        return false;
    }
}
