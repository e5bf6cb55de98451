package org.secondsite.pki;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** SSL contexts for mutual TLS from {@link KeyMaterial} and trusted authority certificates. */
public final class SslContexts {
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private SslContexts() {
    }

    /** A context presenting {@code own} and trusting only the given authorities. */
    public static SSLContext create(KeyMaterial own, X509Certificate... trusted) throws GeneralSecurityException {
        if (trusted.length == 0) {
            throw new IllegalArgumentException("at least one trusted authority is needed");
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("own", own.key(), IN_MEMORY, own.chain());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, IN_MEMORY);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < trusted.length; i++) {
                trust.setCertificateEntry("ca" + i, trusted[i]);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("cannot build in-memory key store", e);
        }
    }
}
