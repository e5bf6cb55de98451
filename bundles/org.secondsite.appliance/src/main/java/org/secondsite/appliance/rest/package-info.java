/**
 * Helpers for the REST resources that bundles add to the appliance's {@code /api/v1}
 * application: checked access to JSON request bodies. Errors are plain exceptions that the
 * appliance turns into problem details ({@code IllegalArgumentException} 400,
 * {@code NoSuchElementException} 404, {@code IllegalStateException} 409); and {@link ApiDoc}, the
 * summaries and descriptions of the appliance's OpenAPI document.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.secondsite.appliance.rest;
