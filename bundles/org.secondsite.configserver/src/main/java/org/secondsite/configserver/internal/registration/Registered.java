package org.secondsite.configserver.internal.registration;

/**
 * The answer to a successful registration.
 *
 * @param componentId the registered id
 * @param certificate the component's certificate, PEM
 * @param authority the certificate of the authority that signed it (trust it for peers), PEM
 * @param serial the certificate's serial number, hexadecimal
 * @param expires end of validity, ISO-8601
 */
public record Registered(String componentId, String certificate, String authority, String serial, String expires) {
}
