package org.secondsite.link.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The link's checked settings (PID {@code org.secondsite.link}).
 *
 * @param configServer base URL of the configuration server, http or https, without a trailing slash
 * @param componentId this component's id, the common name of its certificate
 * @param role {@code agent}, {@code process-server} or {@code master-target}
 * @param site the site it belongs to, or null
 * @param address {@code host:port} where other components reach this one's data listener, or null
 * @param passphrase the registration passphrase, or null (only needed for the first registration)
 * @param trustedCertificate PEM file trusted for https to the configuration server, or null (JDK trust)
 * @param heartbeat time between heartbeats
 * @param stateDir folder of the state file, key store and authority
 */
public record LinkSettings(URI configServer, String componentId, String role, String site, String address,
                           String passphrase, Path trustedCertificate, Duration heartbeat, Path stateDir) {
    /** Component ids, as the certificate authority accepts them. */
    public static final Pattern COMPONENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    /** Roles a component registers with. */
    public static final Set<String> ROLES = Set.of("agent", "process-server", "master-target");
    private static final Pattern SITE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    private static final Pattern ADDRESS = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]{1,253}):([0-9]{1,5})");
    public static final int MIN_HEARTBEAT_SECONDS = 1;
    public static final int MAX_HEARTBEAT_SECONDS = 3600;

    public LinkSettings {
        Objects.requireNonNull(configServer, "configServer");
        Objects.requireNonNull(componentId, "componentId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(stateDir, "stateDir");
    }

    @Override
    public String toString() { // never shows the passphrase
        return "LinkSettings[configServer=" + configServer + ", componentId=" + componentId + ", role=" + role
                + ", site=" + site + ", address=" + address + ", heartbeat=" + heartbeat + ", stateDir=" + stateDir
                + "]";
    }

    /** The settings without the passphrase (once registered it is never needed again). */
    public LinkSettings withoutPassphrase() {
        return new LinkSettings(configServer, componentId, role, site, address, null, trustedCertificate, heartbeat,
                stateDir);
    }

    /**
     * Checks raw configuration values, naming the first bad one and what it expects.
     *
     * @throws IllegalArgumentException saying which setting is wrong and why
     */
    public static LinkSettings of(String configServer, String componentId, String role, String site, String address,
                                  String passphrase, String trustedCertificate, int heartbeatSeconds, String stateDir) {
        URI uri = configServer(configServer);
        String id = trim(componentId);
        if (id == null || !COMPONENT_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("componentId '" + (id == null ? "" : id) + "' is invalid: use 1-64 "
                    + "letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
        }
        String r = trim(role);
        if (r == null || !ROLES.contains(r)) {
            throw new IllegalArgumentException("role '" + (r == null ? "" : r) + "' is invalid: expected agent, "
                    + "process-server or master-target");
        }
        String s = trim(site);
        if (s != null && !SITE.matcher(s).matches()) {
            throw new IllegalArgumentException("site '" + s + "' is invalid: use 1-64 letters, digits, '.', '_', ':' "
                    + "or '-', starting with a letter or digit (or leave it empty)");
        }
        String a = trim(address);
        if (a != null) {
            var m = ADDRESS.matcher(a);
            if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
                throw new IllegalArgumentException("address '" + a + "' is invalid: expected host:port (port 1-65535), "
                        + "e.g. 10.0.0.5:9443, or empty for an agent");
            }
        }
        if (heartbeatSeconds < MIN_HEARTBEAT_SECONDS || heartbeatSeconds > MAX_HEARTBEAT_SECONDS) {
            throw new IllegalArgumentException("heartbeatSeconds " + heartbeatSeconds + " is out of range: expected "
                    + MIN_HEARTBEAT_SECONDS + ".." + MAX_HEARTBEAT_SECONDS);
        }
        String dir = trim(stateDir);
        if (dir == null) {
            throw new IllegalArgumentException("stateDir is empty: expected a folder for the link's state and key "
                    + "store");
        }
        String pem = trim(trustedCertificate);
        if (pem != null && !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("trustedCertificate is set but configServer " + uri + " is not https");
        }
        String pass = passphrase == null || passphrase.isEmpty() ? null : passphrase;
        return new LinkSettings(uri, id, r, s, a, pass, pem == null ? null : Path.of(pem),
                Duration.ofSeconds(heartbeatSeconds), Path.of(dir));
    }

    /** A base URL: http or https, a host, no query, fragment or user info; the trailing slash removed. */
    static URI configServer(String raw) {
        String v = trim(raw);
        if (v == null) {
            throw new IllegalArgumentException("configServer is empty: expected the configuration server's base URL, "
                    + "e.g. https://cs.example.org:8443");
        }
        URI uri;
        try {
            uri = new URI(v);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("configServer '" + v + "' is not a URL: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("configServer '" + v + "' must start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("configServer '" + v + "' must be scheme://host[:port][/path] with no "
                    + "user, query or fragment");
        }
        String s = uri.toString();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return URI.create(s);
    }

    /** The URL of an API path such as {@code /api/v1/heartbeats} on the configuration server. */
    public URI endpoint(String apiPath) {
        return URI.create(configServer + apiPath);
    }

    private static String trim(String s) {
        if (s == null) {
            return null;
        }
        String t = s.trim();
        return t.isEmpty() ? null : t;
    }
}
