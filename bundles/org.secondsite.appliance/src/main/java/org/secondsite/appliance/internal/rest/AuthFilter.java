package org.secondsite.appliance.internal.rest;

import java.lang.reflect.Method;
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
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsApplicationSelect;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsExtension;
import org.osgi.service.jaxrs.whiteboard.propertytypes.JaxrsName;
import org.secondsite.api.appliance.Appliance;
import org.secondsite.appliance.internal.security.JaasLogin;
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

    private final Authenticator authenticator =
            new Authenticator(JaasLogin::login, Duration.ofSeconds(60), Clock.systemUTC());

    /** Web console sessions: {@code Authorization: Bearer <token>} from {@code POST /api/v1/sessions}. */
    @Reference
    private SessionStore sessions;

    @Override
    public void filter(ContainerRequestContext request) {
        Method method = resourceInfo.getResourceMethod();
        if (method != null && method.isAnnotationPresent(PermitAll.class)) {
            return;
        }
        Set<String> needed = requiredRoles(method, resourceInfo.getResourceClass());
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        boolean bearer = SessionStore.isBearer(authorization);
        Authenticator.Result result = bearer ? sessions.authenticate(authorization)
                : authenticator.authenticate(authorization);
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

    static Set<String> requiredRoles(Method method, Class<?> resourceClass) {
        RolesAllowed allowed = method == null ? null : method.getAnnotation(RolesAllowed.class);
        if (allowed == null && resourceClass != null) {
            allowed = resourceClass.getAnnotation(RolesAllowed.class);
        }
        return allowed == null ? Set.of(Appliance.ROLE_ADMIN) : new HashSet<>(Arrays.asList(allowed.value()));
    }
}
