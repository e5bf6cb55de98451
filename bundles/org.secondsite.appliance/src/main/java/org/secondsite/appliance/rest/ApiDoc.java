package org.secondsite.appliance.rest;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Human words for the appliance's OpenAPI document ({@code GET /api/v1/openapi.json}), on a REST
 * resource class (its tag) or resource method (its operation). Everything else in the document
 * (paths, HTTP methods, parameters, media types, roles) is read from the JAX-RS and
 * {@code @RolesAllowed}/{@code @PermitAll} annotations themselves; this annotation only adds what
 * they cannot say.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface ApiDoc {
    /** One line: what the operation does (on a class: what its endpoints are about). */
    String summary();

    /** Longer explanation (CommonMark), empty for none. */
    String description() default "";

    /**
     * The status of a successful answer, for a method that returns a {@code Response} built with
     * one (201 created, 202 accepted...); 0 infers it: 204 for {@code void} and for {@code DELETE}
     * returning a {@code Response}, 200 otherwise.
     */
    int status() default 0;

    /**
     * The type of the body of a successful answer, for a method that returns a {@code Response}
     * (whose entity type reflection cannot see); {@code Void.class} leaves it unspecified.
     */
    Class<?> response() default Void.class;

    /**
     * Error statuses the method answers beyond those inferred (400 when it takes input, 401/403
     * unless {@code @PermitAll}, 404 with path parameters, 409 for methods that change state, 500).
     */
    int[] errors() default {};
}
