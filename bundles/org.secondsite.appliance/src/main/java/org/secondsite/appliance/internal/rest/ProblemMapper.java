package org.secondsite.appliance.internal.rest;

import java.util.NoSuchElementException;

import javax.ws.rs.core.Response;
import javax.ws.rs.ext.ExceptionMapper;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtension;
import org.secondsite.api.appliance.Appliance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the plain exceptions of resources in any bundle into problem details, so a resource can
 * let its domain code's errors through: {@link IllegalArgumentException} is the client's bad input
 * (400), {@link NoSuchElementException} an unknown id (404), {@link IllegalStateException} a
 * conflict with the current state (409). The message is the detail; it must not hold secrets.
 */
@Component(service = ExceptionMapper.class)
@JaxrsExtension
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
public class ProblemMapper implements ExceptionMapper<RuntimeException> {
    private static final Logger LOG = LoggerFactory.getLogger(ProblemMapper.class);

    @Override
    public Response toResponse(RuntimeException e) {
        if (e instanceof javax.ws.rs.WebApplicationException w) {
            return w.getResponse();
        }
        return map(e);
    }

    static Response map(RuntimeException e) {
        Response.Status status;
        if (e instanceof NoSuchElementException) {
            status = Response.Status.NOT_FOUND;
        } else if (e instanceof IllegalArgumentException) {
            status = Response.Status.BAD_REQUEST;
        } else if (e instanceof IllegalStateException) {
            status = Response.Status.CONFLICT;
        } else {
            LOG.warn("REST request failed", e);
            return Problems.response(Response.Status.INTERNAL_SERVER_ERROR,
                    "internal error (" + e.getClass().getSimpleName() + "); see the appliance log").build();
        }
        return Problems.response(status, String.valueOf(e.getMessage())).build();
    }
}
