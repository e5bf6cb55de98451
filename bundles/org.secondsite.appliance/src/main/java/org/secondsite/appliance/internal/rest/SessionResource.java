package org.secondsite.appliance.internal.rest;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Consumes;
import javax.ws.rs.DELETE;
import javax.ws.rs.GET;
import javax.ws.rs.HeaderParam;
import javax.ws.rs.POST;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.HttpHeaders;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JSONRequired;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsResource;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.internal.security.JaasLogin;
import org.secondsite.appliance.rest.JsonFields;

/**
 * {@code /api/v1/sessions}: log in with a user name and password of the {@code karaf} JAAS realm
 * and get a session token to send as {@code Authorization: Bearer <token>} (the web console does);
 * {@code GET /sessions/current} tells who the token is; {@code DELETE /sessions/current} logs out.
 * A session ends after {@link SessionStore#IDLE_TIMEOUT} without a request.
 */
@Component(service = SessionResource.class)
@JaxrsResource
@JSONRequired
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Path("sessions")
public class SessionResource {
    static final Set<String> APPLIANCE_ROLES = Set.of(Appliance.ROLE_VIEWER, Appliance.ROLE_OPERATOR,
            Appliance.ROLE_ADMIN);
    private static final int MAX_FIELD = 256;

    /** The answer to a login: the token (only then), who, with which roles, until when (if idle). */
    public record SessionView(String token, String user, Set<String> roles, String expiresAt,
                              long idleTimeoutSeconds) {
        static SessionView of(String token, SessionStore.Session s) {
            return new SessionView(token, s.user(), new TreeSet<>(s.roles()), s.expiresAt().toString(),
                    SessionStore.IDLE_TIMEOUT.toSeconds());
        }
    }

    private final SessionStore sessions;
    private final Authenticator.Login login;

    @Activate
    public SessionResource(@Reference SessionStore sessions) {
        this(sessions, JaasLogin::login);
    }

    SessionResource(SessionStore sessions, Authenticator.Login login) {
        this.sessions = sessions;
        this.login = login;
    }

    /** Body {@code {"user": "...", "password": "..."}}; 201 with the session, 401 if refused. */
    @POST
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response create(Map<String, Object> body) {
        JsonFields f = new JsonFields(body, Set.of("user", "password"));
        String user = f.required("user");
        String password = f.required("password");
        if (user.length() > MAX_FIELD || password.length() > MAX_FIELD) {
            throw new IllegalArgumentException("field '" + (user.length() > MAX_FIELD ? "user" : "password")
                    + "': longer than " + MAX_FIELD + " characters");
        }
        Set<String> roles;
        try {
            roles = login.login(user, password.toCharArray());
        } catch (Exception e) {
            return Problems.response(Response.Status.UNAUTHORIZED, "invalid user name or password").build();
        }
        if (roles.stream().noneMatch(APPLIANCE_ROLES::contains)) {
            return Problems.response(Response.Status.FORBIDDEN, "user '" + user + "' has none of the roles "
                    + new TreeSet<>(APPLIANCE_ROLES)).build();
        }
        Set<String> kept = new TreeSet<>(roles);
        kept.retainAll(APPLIANCE_ROLES);
        SessionStore.Created c = sessions.create(user, kept);
        return Response.status(Response.Status.CREATED).entity(SessionView.of(c.token(), c.session())).build();
    }

    /** The caller's session (without its token); 400 when the caller did not authenticate with one. */
    @GET
    @Path("current")
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed({Appliance.ROLE_VIEWER, Appliance.ROLE_OPERATOR, Appliance.ROLE_ADMIN})
    public SessionView current(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        return sessions.current(authorization).map(s -> SessionView.of(null, s)).orElseThrow(() ->
                new IllegalArgumentException("no session: this request did not carry a Bearer session token"));
    }

    /** Logs out: the token is no longer accepted. */
    @DELETE
    @Path("current")
    @RolesAllowed({Appliance.ROLE_VIEWER, Appliance.ROLE_OPERATOR, Appliance.ROLE_ADMIN})
    public Response end(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        if (!sessions.end(authorization)) {
            throw new IllegalArgumentException("no session: this request did not carry a Bearer session token");
        }
        return Response.noContent().build();
    }
}
