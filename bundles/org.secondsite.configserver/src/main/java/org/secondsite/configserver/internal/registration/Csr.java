package org.secondsite.configserver.internal.registration;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.secondsite.configserver.internal.ConfigServerException;

/** PKCS#10 certificate signing requests in PEM, checked before the authority signs their key. */
public final class Csr {
    /** A PEM CSR is about 1 KiB for EC, 2 KiB for RSA 4096; anything near this is not one. */
    public static final int MAX_PEM_CHARS = 16 * 1024;

    private Csr() {
    }

    /**
     * The public key of a CSR whose signature proves possession of the private key, whose key is
     * EC (256 bits or more) or RSA (2048 bits or more), and whose subject common name, if any, is
     * {@code componentId}.
     *
     * @throws ConfigServerException (invalid, field {@code csr}) saying what is wrong
     */
    public static PublicKey verifiedKey(String pem, String componentId) {
        if (pem == null || pem.isBlank()) {
            throw ConfigServerException.invalid("csr", "csr is required: a PKCS#10 request in PEM");
        }
        if (pem.length() > MAX_PEM_CHARS) {
            throw ConfigServerException.invalid("csr", "csr is longer than " + MAX_PEM_CHARS + " characters");
        }
        Object parsed;
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            parsed = parser.readObject();
        } catch (IOException | RuntimeException e) {
            throw ConfigServerException.invalid("csr", "csr is not a readable PEM object: " + e.getMessage());
        }
        if (!(parsed instanceof PKCS10CertificationRequest request)) {
            throw ConfigServerException.invalid("csr", "csr must be a PEM 'CERTIFICATE REQUEST' (PKCS#10), found "
                    + (parsed == null ? "nothing" : parsed.getClass().getSimpleName()));
        }
        JcaPKCS10CertificationRequest jca = new JcaPKCS10CertificationRequest(request);
        PublicKey key;
        try {
            key = jca.getPublicKey();
            if (!request.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                throw ConfigServerException.invalid("csr", "csr signature does not match its public key");
            }
        } catch (ConfigServerException e) {
            throw e;
        } catch (Exception e) {
            throw ConfigServerException.invalid("csr", "csr signature cannot be checked: " + e.getMessage());
        }
        if (key instanceof ECPublicKey ec) {
            if (ec.getParams().getCurve().getField().getFieldSize() < 256) {
                throw ConfigServerException.invalid("csr", "csr key is an EC key under 256 bits");
            }
        } else if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < 2048) {
                throw ConfigServerException.invalid("csr", "csr key is an RSA key under 2048 bits");
            }
        } else {
            throw ConfigServerException.invalid("csr", "csr key must be EC (P-256 or stronger) or RSA (2048 bits or "
                    + "more), was " + key.getAlgorithm());
        }
        RDN[] cns = request.getSubject().getRDNs(BCStyle.CN);
        for (RDN cn : cns) {
            String v = IETFUtils.valueToString(cn.getFirst().getValue());
            if (!v.equals(componentId)) {
                throw ConfigServerException.invalid("csr", "csr subject CN '" + v + "' differs from componentId '"
                        + componentId + "'");
            }
        }
        return key;
    }

    /** A certificate in PEM. */
    public static String pem(X509Certificate certificate) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(certificate);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write PEM", e);
        }
        return out.toString();
    }
}
