package org.secondsite.appliance.internal.rest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URI;
import java.security.Principal;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import javax.annotation.Priority;
import javax.annotation.security.PermitAll;
import javax.annotation.security.RolesAllowed;
import javax.ws.rs.Priorities;
import javax.ws.rs.container.ContainerRequestContext;
import javax.ws.rs.container.ContainerRequestFilter;
import javax.ws.rs.container.ResourceInfo;
import javax.ws.rs.core.Context;
import javax.ws.rs.core.HttpHeaders;
import javax.ws.rs.core.Response;
import javax.ws.rs.core.SecurityContext;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtension;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.internal.security.JaasLogin;
import org.secondsite.appliance.rest.ComponentAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates every request to the REST application against the {@code karaf} JAAS
 * realm (HTTP Basic, or a session token from {@link SessionResource} as {@code Bearer}) and
 * enforces {@code @RolesAllowed} of the resource method or class.
 * A resource without either annotation needs {@code admin}: forgetting an annotation
 * fails closed. {@code @PermitAll} opens a method to anyone.
 */
@Component(service = ContainerRequestFilter.class)
@JaxrsExtension
@JaxrsName(AuthFilter.NAME)
@JaxrsApplicationSelect(Appliance.REST_APPLICATION_SELECT)
@Priority(Priorities.AUTHENTICATION)
public class AuthFilter implements ContainerRequestFilter {
    /** Whiteboard name; the application requires an extension of this name. */
    static final String NAME = "secondsite.auth";
    private static final Logger LOG = LoggerFactory.getLogger(AuthFilter.class);

    @Context
    private ResourceInfo resourceInfo;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ComponentAuthenticator components;

    private final Authenticator authenticator =
            new Authenticator(JaasLogin::login, Duration.ofSeconds(60), Clock.systemUTC());

    /** Web console sessions: {@code Authorization: Bearer <token>} from {@code POST /api/v1/sessions}. */
    @Reference
    private SessionStore sessions;

    @Override
    public void filter(ContainerRequestContext request) {
        Method method = resourceInfo.getResourceMethod();
        if (permitAll(method)) {
            return;
        }
        Set<String> needed = requiredRoles(method, resourceInfo.getResourceClass());
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        boolean bearer = SessionStore.isBearer(authorization);
        Authenticator.Result result = bearer ? sessions.authenticate(authorization)
                : authorization != null && authorization.startsWith(ComponentAuthenticator.SCHEME + " ")
                ? component(request, authorization) : authenticator.authenticate(authorization);
        if (!result.ok()) {
            LOG.debug("Refused {} {}: {}", request.getMethod(), request.getUriInfo().getPath(), result.failure());
            // A Bearer caller (the console) gets a Bearer challenge: a Basic one would pop up the browser's dialog.
            request.abortWith(Problems.response(Response.Status.UNAUTHORIZED, result.failure())
                    .header(HttpHeaders.WWW_AUTHENTICATE, bearer ? SessionStore.CHALLENGE
                            : "Basic realm=\"SecondSite\", charset=\"UTF-8\"").build());
            return;
        }
        if (needed.stream().noneMatch(result.roles()::contains)) {
            request.abortWith(Problems.response(Response.Status.FORBIDDEN,
                    "user '" + result.user() + "' lacks the role " + String.join(" or ", needed)).build());
            return;
        }
        boolean secure = request.getSecurityContext().isSecure();
        request.setSecurityContext(new SecurityContext() {
            @Override
            public Principal getUserPrincipal() {
                return result::user;
            }

            @Override
            public boolean isUserInRole(String role) {
                return result.roles().contains(role);
            }

            @Override
            public boolean isSecure() {
                return secure;
            }

            @Override
            public String getAuthenticationScheme() {
                return bearer ? "Bearer" : SecurityContext.BASIC_AUTH;
            }
        });
    }

    /** A request signed by a registered component, checked by the configuration server's authenticator. */
    private Authenticator.Result component(ContainerRequestContext request, String authorization) {
        ComponentAuthenticator verifier = components;
        if (verifier == null) {
            return new Authenticator.Result(null, Set.of(), "this appliance has no configuration server to verify "
                    + "component signatures");
        }
        byte[] body;
        try (InputStream in = request.getEntityStream()) {
            body = in == null ? new byte[0] : in.readNBytes(ComponentAuthenticator.MAX_BODY_BYTES + 1);
        } catch (IOException e) {
            return new Authenticator.Result(null, Set.of(), "cannot read the request body: " + e.getMessage());
        }
        if (body.length > ComponentAuthenticator.MAX_BODY_BYTES) {
            return new Authenticator.Result(null, Set.of(), "a signed request body may have at most "
                    + ComponentAuthenticator.MAX_BODY_BYTES + " bytes");
        }
        request.setEntityStream(new ByteArrayInputStream(body));
        URI uri = request.getUriInfo().getRequestUri();
        String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        try {
            String id = verifier.authenticate(request.getMethod(), target,
                    request.getHeaderString(ComponentAuthenticator.DATE_HEADER), authorization, body);
            return new Authenticator.Result(ComponentAuthenticator.PRINCIPAL_PREFIX + id,
                    Set.of(ComponentAuthenticator.ROLE), null);
        } catch (SecurityException e) {
            return new Authenticator.Result(null, Set.of(), e.getMessage());
        }
    }

    /** Whether anyone may call the method: {@code @PermitAll} on the method itself (not on its class). */
    static boolean permitAll(Method method) {
        return method != null && method.isAnnotationPresent(PermitAll.class);
    }

    /** The roles of which a caller needs one: the method's {@code @RolesAllowed}, else the class's, else admin. */
    static Set<String> requiredRoles(Method method, Class<?> resourceClass) {
        RolesAllowed allowed = method == null ? null : method.getAnnotation(RolesAllowed.class);
        if (allowed == null && resourceClass != null) {
            allowed = resourceClass.getAnnotation(RolesAllowed.class);
        }
        return allowed == null ? Set.of(Appliance.ROLE_ADMIN) : new HashSet<>(Arrays.asList(allowed.value()));
    }
}
