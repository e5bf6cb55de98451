package org.secondsite.appliance.internal.rest;

import javax.ws.rs.core.Application;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationBase;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtensionSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;
import org.secondsite.api.appliance.Appliance;

/**
 * The REST application at {@code /api/v1}. Resources of any bundle join it with
 * {@code osgi.jaxrs.application.select=}{@value Appliance#REST_APPLICATION_SELECT} and are
 * protected by {@link AuthFilter} according to their {@code @RolesAllowed}.
 *
 * <p>The application requires the authentication filter and the JSON provider: while either
 * is missing (during a bundle update, say) the whiteboard does not serve it at all, so it can
 * never answer without authentication.
 */
@Component(service = Application.class)
@JaxrsApplicationBase("api/v1")
@JaxrsName(Appliance.REST_APPLICATION)
@JaxrsExtensionSelect({"(osgi.jaxrs.media.type=application/json)", "(" + "osgi.jaxrs.name=" + AuthFilter.NAME + ")"})
public class SecondSiteApplication extends Application {
}
