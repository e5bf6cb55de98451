package org.secondsite.configserver.internal.rest;

import java.util.Set;

import javax.annotation.security.PermitAll;
import javax.servlet.http.HttpServletRequest;
import javax.ws.rs.Consumes;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

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
import org.secondsite.configserver.internal.registration.RegistrationRequest;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code POST /api/v1/registration}: a component registers with the passphrase, its id, role,
 * optional site and a PKCS#10 CSR, and receives its certificate. Authenticated by the passphrase,
 * not by JAAS ({@code @PermitAll}); wrong passphrases are 403, then 429 per client address. Runs
 * over whatever the HTTP service offers: HTTPS in production (configure Pax Web's TLS connector);
 * the integration tests use plain HTTP on loopback.
 */
@Component(service = RegistrationResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("registration")
public class RegistrationResource {
    static final Set<String> FIELDS = Set.of("passphrase", "componentId", "role", "site", "csr", "address");

    private final ConfigServer server;

    @Activate
    public RegistrationResource(@Reference ConfigServerService service) {
        this(service.server());
    }

    RegistrationResource(ConfigServer server) {
        this.server = server;
    }

    @POST
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @ApiDoc(summary = "Register a component with the passphrase and a CSR; answers its certificate", description = "Body: {passphrase, componentId, role, site?, csr (PEM), address? (host:port of its data listener)}. 403 wrong passphrase, 429 after repeated failures, 409 already registered.", response = org.secondsite.configserver.internal.registration.Registered.class, errors = {429})
    public Response register(String body, @Context HttpServletRequest request) {
        return register(body, request == null ? "unknown" : request.getRemoteAddr());
    }

    Response register(String body, String clientAddress) {
        return Rest.answer(() -> {
            ObjectNode o = Rest.object(body, FIELDS);
            RegistrationRequest r = new RegistrationRequest(Rest.optionalString(o, "passphrase", null),
                    Rest.optionalString(o, "componentId", null), Rest.optionalString(o, "role", null),
                    Rest.optionalString(o, "site", null), Rest.optionalString(o, "csr", null),
                    Rest.optionalString(o, "address", null));
            return Response.ok(server.register(r, clientAddress)).build();
        });
    }
}
