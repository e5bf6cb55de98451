package org.secondsite.appliance.internal.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.security.auth.login.AppConfigurationEntry;

import org.apache.karaf.jaas.config.JaasRealm;
import org.apache.karaf.jaas.modules.BackingEngine;
import org.apache.karaf.jaas.modules.BackingEngineFactory;
import org.osgi.service.component.annotations.Component;
import org.secondsite.api.appliance.Appliance;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * No default password ships. On the first start (the {@code karaf} JAAS realm's user file
 * holds no user), this creates the user {@code admin} in the group {@code admingroup} with
 * a random password, stored only as a hash, and writes the password once to a file that
 * only the appliance's owner can read.
 */
@Component(immediate = true)
public class FirstBootAdmin {
    static final String ADMIN = "admin";
    static final String ADMIN_GROUP = "admingroup";
    private static final String PROPERTIES_MODULE = "org.apache.karaf.jaas.modules.properties.PropertiesLoginModule";
    private static final Logger LOG = LoggerFactory.getLogger(FirstBootAdmin.class);
    /** One creation at a time in this JVM: realms and engines arrive on several threads. */
    private static final Object LOCK = new Object();

    private final List<JaasRealm> realms = new CopyOnWriteArrayList<>();
    private final List<BackingEngineFactory> factories = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addRealm(JaasRealm realm) {
        realms.add(realm);
        ensureAdmin();
    }

    void removeRealm(JaasRealm realm) {
        realms.remove(realm);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addFactory(BackingEngineFactory factory) {
        factories.add(factory);
        ensureAdmin();
    }

    void removeFactory(BackingEngineFactory factory) {
        factories.remove(factory);
    }

    /** Creates the admin if the realm's user file holds no user; does nothing until realm and engine are both there. */
    private void ensureAdmin() {
        synchronized (LOCK) {
            try {
                createIfNoUser();
            } catch (IOException | RuntimeException e) {
                LOG.error("Could not create the initial admin user: {}", e.getMessage(), e);
            }
        }
    }

    private void createIfNoUser() throws IOException {
        Map<String, ?> options = karafPropertiesOptions(realms);
        BackingEngineFactory factory = factories.stream()
                .filter(f -> PROPERTIES_MODULE.equals(f.getModuleClass())).findFirst().orElse(null);
        if (options == null || factory == null) {
            return;
        }
        BackingEngine engine = factory.build(options);
        if (!engine.listUsers().isEmpty()) {
            return;
        }
        Path usersFile = Paths.get(String.valueOf(options.get("users")));
        if (!"true".equalsIgnoreCase(String.valueOf(options.get("encryption.enabled")))) {
            throw new IllegalStateException("Refusing to create the initial admin: password encryption is disabled "
                    + "(set encryption.enabled = true in etc/org.apache.karaf.jaas.cfg) so " + usersFile
                    + " would hold a plain-text password");
        }
        String password = Passwords.generate(24);
        // One atomic replacement of the file (not the engine's two rewrites): Karaf's automatic password
        // encryption watches this file and, reading a half-rewritten one, once dropped the admin's group.
        String line = ADMIN + " = " + hash(password, options) + ",_g_:" + ADMIN_GROUP;
        String current = Files.readString(usersFile, StandardCharsets.ISO_8859_1);
        Path tmp = usersFile.resolveSibling(usersFile.getFileName() + ".secondsite-tmp");
        Files.writeString(tmp, current + (current.endsWith("\n") ? "" : "\n") + line + "\n",
                StandardCharsets.ISO_8859_1);
        Files.move(tmp, usersFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        checkStored(usersFile, password);
        try {
            if (!JaasLogin.login(ADMIN, password.toCharArray()).contains(Appliance.ROLE_ADMIN)) {
                throw new IllegalStateException("the new admin logs in without the admin role");
            }
        } catch (Exception e) {
            throw new IllegalStateException("the new admin cannot log in (" + e.getMessage() + "): check the "
                    + "encryption settings in etc/org.apache.karaf.jaas.cfg", e);
        }
        Path secret = writeOnce(password);
        String msg = "SecondSite first start: user 'admin' created; its password is in " + secret
                + " (readable by the owner only). Read it, then delete the file.";
        LOG.warn(msg);
        System.out.println(msg);
    }

    /**
     * The stored form of a password as Karaf's basic encryption writes it: a digest of the password's
     * bytes with the configured algorithm and encoding, between the configured prefix and suffix.
     */
    static String hash(String password, Map<String, ?> options) {
        String algorithm = String.valueOf(options.get("encryption.algorithm"));
        String encoding = String.valueOf(options.get("encryption.encoding"));
        String prefix = options.get("encryption.prefix") == null ? "" : options.get("encryption.prefix").toString();
        String suffix = options.get("encryption.suffix") == null ? "" : options.get("encryption.suffix").toString();
        byte[] digest;
        try {
            digest = java.security.MessageDigest.getInstance(algorithm).digest(password.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("unknown encryption.algorithm '" + algorithm + "'", e);
        }
        String encoded;
        if ("hexadecimal".equalsIgnoreCase(encoding)) {
            encoded = java.util.HexFormat.of().withUpperCase().formatHex(digest);
        } else if ("base64".equalsIgnoreCase(encoding)) {
            encoded = java.util.Base64.getEncoder().encodeToString(digest);
        } else {
            throw new IllegalStateException("unsupported encryption.encoding '" + encoding
                    + "': use hexadecimal or base64 in etc/org.apache.karaf.jaas.cfg");
        }
        return prefix + encoded + suffix;
    }

    private static Map<String, ?> karafPropertiesOptions(List<JaasRealm> realms) {
        JaasRealm best = null;
        for (JaasRealm r : realms) {
            if ("karaf".equals(r.getName()) && (best == null || r.getRank() > best.getRank())) {
                best = r;
            }
        }
        if (best == null) {
            return null;
        }
        for (AppConfigurationEntry e : best.getEntries()) {
            Object module = e.getOptions().get("org.apache.karaf.jaas.module");
            if (PROPERTIES_MODULE.equals(e.getLoginModuleName()) || PROPERTIES_MODULE.equals(module)) {
                return e.getOptions();
            }
        }
        return null;
    }

    /** The stored entry must hold a hash, never the password, and the admin's group. */
    private static void checkStored(Path usersFile, String password) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(usersFile)) {
            p.load(in);
        }
        String entry = p.getProperty(ADMIN, "");
        if (entry.contains(password)) {
            throw new IllegalStateException("the admin password was stored in clear in " + usersFile
                    + "; check the encryption settings in etc/org.apache.karaf.jaas.cfg");
        }
        if (!entry.contains("_g_:" + ADMIN_GROUP)) {
            throw new IllegalStateException("the admin entry in " + usersFile + " lost its group " + ADMIN_GROUP
                    + ": another writer changed the file meanwhile");
        }
    }

    private static Path writeOnce(String password) throws IOException {
        String data = System.getProperty("karaf.data", "data");
        Path dir = Paths.get(data, "secondsite");
        Files.createDirectories(dir);
        Path file = dir.resolve("initial-admin-password");
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(file);
        }
        Files.write(file, (password + "\n").getBytes(StandardCharsets.US_ASCII), StandardOpenOption.TRUNCATE_EXISTING);
        return file.toAbsolutePath();
    }
}
