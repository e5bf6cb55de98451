package org.secondsite.appliance.internal.rest;

import java.time.Instant;

import javax.annotation.security.RolesAllowed;
import javax.ws.rs.GET;
import javax.ws.rs.Produces;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.internal.ReplicationOverview;
import org.secondsite.appliance.internal.metrics.PrometheusText;
import org.secondsite.appliance.internal.metrics.ReplicationMetrics;
import org.secondsite.appliance.rest.ApiDoc;

/**
 * {@code GET /api/v1/metrics}: the appliance's metrics in the Prometheus text format, for viewers
 * (Prometheus: {@code metrics_path: /api/v1/metrics} with {@code basic_auth}).
 */
@Component(service = MetricsResource.class)
@JaxrsResource
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@javax.ws.rs.Path("metrics")
@ApiDoc(summary = "Metrics for Prometheus")
public class MetricsResource {
    private final ReplicationOverview overview;

    @Activate
    public MetricsResource(@Reference ReplicationOverview overview) {
        this.overview = overview;
    }

    @GET
    @ApiDoc(summary = "Metrics in the Prometheus text format", description = "Replication per disk and stage "
            + "(backlog, lag, bytes, rates) and the JVM. Prometheus: `metrics_path: /api/v1/metrics` with `basic_auth`.")
    @Produces(PrometheusText.CONTENT_TYPE)
    @RolesAllowed(Appliance.ROLE_VIEWER)
    public String scrape() {
        return ReplicationMetrics.render(overview.rows(), ReplicationMetrics.Process.now(), Instant.now());
    }
}
