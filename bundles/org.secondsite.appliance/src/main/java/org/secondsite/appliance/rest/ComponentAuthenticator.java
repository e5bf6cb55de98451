package org.secondsite.appliance.rest;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Verifies requests that registered components sign with their private key
 * ({@code docs/PROTOCOL.md} §8): the configuration server registers one; the appliance's REST
 * filter calls it for {@code Authorization: SecondSite-Signature cert="...",sig="..."} and then
 * treats the request as the principal {@code component:<id>} with the single role
 * {@link #ROLE}. The signature covers the method, the raw path and query, the
 * {@link #DATE_HEADER} value and the SHA-256 of the body.
 */
@ConsumerType
public interface ComponentAuthenticator {
    /** The authorization scheme of signed requests. */
    String SCHEME = "SecondSite-Signature";
    /** The header carrying the signer's clock, an ISO-8601 instant. */
    String DATE_HEADER = "X-SecondSite-Date";
    /** The role of an authenticated component. */
    String ROLE = "component";
    /** Principal names of components: this prefix and the component id. */
    String PRINCIPAL_PREFIX = "component:";
    /** Largest body a signed request may have. */
    int MAX_BODY_BYTES = 512 * 1024;

    /**
     * @param method the HTTP method, upper case
     * @param rawPathAndQuery the request URI's raw path, plus {@code ?} and the raw query if any
     * @param date the {@link #DATE_HEADER} value, or null
     * @param authorization the whole {@code Authorization} header value
     * @param body the request body (empty if none)
     * @return the id of the component that signed
     * @throws SecurityException saying why the request is refused (no secret in the message)
     */
    String authenticate(String method, String rawPathAndQuery, String date, String authorization, byte[] body);
}
