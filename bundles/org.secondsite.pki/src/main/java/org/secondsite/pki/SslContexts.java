package org.secondsite.pki;

import java.math.BigInteger;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** SSL contexts for mutual TLS from {@link KeyMaterial} and trusted authority certificates. */
public final class SslContexts {
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private SslContexts() {
    }

    /** A context presenting {@code own} and trusting only the given authorities. */
    public static SSLContext create(KeyMaterial own, X509Certificate... trusted) throws GeneralSecurityException {
        return create(own, Set.of(), trusted);
    }

    /**
     * A context presenting {@code own}, trusting only the given authorities and refusing, during
     * the handshake, a peer whose certificate serial number is in {@code revokedSerials}.
     */
    public static SSLContext create(KeyMaterial own, Set<BigInteger> revokedSerials, X509Certificate... trusted)
            throws GeneralSecurityException {
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
            TrustManager[] trustManagers = tmf.getTrustManagers();
            if (!revokedSerials.isEmpty()) {
                Set<BigInteger> revoked = Set.copyOf(revokedSerials);
                for (int i = 0; i < trustManagers.length; i++) {
                    if (trustManagers[i] instanceof X509ExtendedTrustManager x) {
                        trustManagers[i] = new RevocationCheckingTrustManager(x, revoked);
                    }
                }
            }
            ctx.init(kmf.getKeyManagers(), trustManagers, new SecureRandom());
            return ctx;
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("cannot build in-memory key store", e);
        }
    }

    /** Delegates the chain check, then refuses a leaf certificate whose serial number is revoked. */
    private static final class RevocationCheckingTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final Set<BigInteger> revoked;

        RevocationCheckingTrustManager(X509ExtendedTrustManager delegate, Set<BigInteger> revoked) {
            this.delegate = delegate;
            this.revoked = revoked;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            if (chain != null && chain.length > 0 && revoked.contains(chain[0].getSerialNumber())) {
                throw new CertificateException("certificate of '" + KeyMaterial.commonName(chain[0]) + "' (serial "
                        + chain[0].getSerialNumber().toString(16) + ") is revoked");
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, engine);
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
            check(chain);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
