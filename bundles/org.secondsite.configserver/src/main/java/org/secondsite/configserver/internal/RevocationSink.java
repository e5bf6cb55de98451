package org.secondsite.configserver.internal;

import java.util.List;

/** Where the serial numbers of revoked certificates go, so that TLS refuses them (the pki identity). */
@FunctionalInterface
public interface RevocationSink {
    /** Every revoked serial (hexadecimal), the complete list each time. */
    void revoked(List<String> serials) throws Exception;
}
