package org.secondsite.configserver.internal;

import java.io.StringWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.secondsite.configserver.internal.catalogue.Catalogue;
import org.secondsite.configserver.internal.catalogue.Migrations;
import org.secondsite.configserver.internal.registration.FailureLimiter;
import org.secondsite.configserver.internal.registration.Passphrase;
import org.secondsite.pki.CertificateAuthority;

/** A configuration server on a temporary catalogue, with a fake clock and a recording revocation sink. */
public final class Fixtures implements AutoCloseable {
    static {
        System.setProperty("derby.stream.error.file", "target/derby-test.log");
        // Tests need no durability: skipping Derby's syncs keeps the suite fast on a busy machine.
        System.setProperty("derby.system.durability", "test");
    }

    public final Catalogue catalogue;
    public final Passphrase passphrase;
    public final CertificateAuthority authority;
    public final List<List<String>> revocations = new ArrayList<>();
    public final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    public final ConfigServer server;

    public Fixtures(Path dir) throws Exception {
        catalogue = Catalogue.open(dir.resolve("catalogue"), Migrations.bundled());
        passphrase = Passphrase.loadOrCreate(dir.resolve("registration-passphrase"));
        authority = CertificateAuthority.create("test authority", Duration.ofDays(10));
        server = new ConfigServer(catalogue, passphrase, new FailureLimiter(3, Duration.ofMinutes(15), clock), () -> authority,
                Duration.ofDays(1), s -> revocations.add(List.copyOf(s)), clock);
    }

    /** Records a registered component directly in the catalogue (no CSR, a made-up serial), now. */
    public void component(String id, String role) throws Exception {
        component(id, role, "127.0.0.1");
    }

    /** Records a registered component with a data address (host:port for process servers and master targets). */
    public void component(String id, String role, String address) throws Exception {
        new org.secondsite.configserver.internal.catalogue.ComponentStore(catalogue).register(
                new org.secondsite.configserver.internal.catalogue.Component(id, role, null, address,
                        Integer.toHexString(id.hashCode()), clock.instant().plus(Duration.ofDays(1)),
                        org.secondsite.configserver.internal.catalogue.Component.REGISTERED, clock.instant(), null,
                        null, null));
    }

    @Override
    public void close() throws Exception {
        catalogue.close();
    }

    /** A PEM CSR for a new EC P-256 key with CN = {@code cn}. */
    public static String csr(String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        var request = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(request);
        }
        return out.toString();
    }

    /** A clock tests move by hand. */
    public static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            now = start;
        }

        public void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
