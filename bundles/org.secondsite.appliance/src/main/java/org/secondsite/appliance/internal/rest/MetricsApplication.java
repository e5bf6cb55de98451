package org.secondsite.appliance.internal.rest;

import javax.ws.rs.core.Application;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationBase;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtensionSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;

/**
 * The application at {@code /metrics} (where Prometheus looks by default), beside
 * {@code /api/v1}. Like the API it requires the authentication filter, so it is never served
 * without it: scrapers log in with HTTP Basic as a user with the {@code viewer} role.
 */
@Component(service = Application.class)
@JaxrsApplicationBase("metrics")
@JaxrsName(MetricsApplication.NAME)
@JaxrsExtensionSelect("(osgi.jaxrs.name=" + AuthFilter.NAME + ")")
public class MetricsApplication extends Application {
    static final String NAME = "secondsite-metrics";
    static final String SELECT = "(osgi.jaxrs.name=" + NAME + ")";
}
