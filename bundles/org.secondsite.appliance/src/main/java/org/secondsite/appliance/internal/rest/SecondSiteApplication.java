package org.secondsite.appliance.internal.rest;

import javax.ws.rs.core.Application;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationBase;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;
import org.secondsite.api.appliance.Appliance;

/**
 * The REST application at {@code /api/v1}. Resources of any bundle join it with
 * {@code osgi.jaxrs.application.select=}{@value Appliance#REST_APPLICATION_SELECT} and are
 * protected by {@link AuthFilter} according to their {@code @RolesAllowed}.
 */
@Component(service = Application.class)
@JaxrsApplicationBase("api/v1")
@JaxrsName(Appliance.REST_APPLICATION)
@JSONRequired
public class SecondSiteApplication extends Application {
}
