package org.secondsite.link.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Properties;

import org.secondsite.pki.OwnerOnlyFiles;

/**
 * What the link remembers across restarts, in {@code link.properties} of its state folder (mode
 * 0600): the component id it registered as, when, its certificate's serial and expiry, and the
 * last desired-state revision applied.
 *
 * @param componentId the id registered, or null when not registered
 * @param registeredAt when the registration succeeded, or null
 * @param certificateSerial the issued certificate's serial (hexadecimal), or null
 * @param certificateExpires when the issued certificate expires, or null
 * @param appliedRevision the last desired-state revision applied, 0 for none
 */
public record LinkState(String componentId, Instant registeredAt, String certificateSerial,
                        Instant certificateExpires, long appliedRevision) {
    /** The state file's name. */
    public static final String FILE = "link.properties";
    /** Not registered, nothing applied. */
    public static final LinkState EMPTY = new LinkState(null, null, null, null, 0);

    /** Whether this state says the component registered as {@code id}. */
    public boolean registeredAs(String id) {
        return componentId != null && componentId.equals(id) && registeredAt != null;
    }

    public LinkState withAppliedRevision(long revision) {
        return new LinkState(componentId, registeredAt, certificateSerial, certificateExpires, revision);
    }

    /** Reads the state file of {@code dir}; {@link #EMPTY} when there is none. */
    public static LinkState load(Path dir) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(dir.resolve(FILE))) {
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
        try {
            String revision = p.getProperty("appliedRevision", "0").trim();
            long applied = Long.parseLong(revision);
            if (applied < 0) {
                throw new NumberFormatException("negative");
            }
            return new LinkState(blankToNull(p.getProperty("componentId")), instant(p, "registeredAt"),
                    blankToNull(p.getProperty("certificateSerial")), instant(p, "certificateExpires"), applied);
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new IOException("state file " + dir.resolve(FILE) + " is damaged (" + e.getMessage()
                    + "); delete it to register again", e);
        }
    }

    /** Writes this state to the state file of {@code dir}, atomically. */
    public void save(Path dir) throws IOException {
        Properties p = new Properties();
        put(p, "componentId", componentId);
        put(p, "registeredAt", registeredAt);
        put(p, "certificateSerial", certificateSerial);
        put(p, "certificateExpires", certificateExpires);
        p.setProperty("appliedRevision", Long.toString(appliedRevision));
        StringWriter w = new StringWriter();
        p.store(w, "SecondSite link state (written by org.secondsite.link; delete to register again)");
        OwnerOnlyFiles.write(dir.resolve(FILE), w.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void put(Properties p, String key, Object value) {
        if (value != null) {
            p.setProperty(key, value.toString());
        }
    }

    private static Instant instant(Properties p, String key) {
        String v = blankToNull(p.getProperty(key));
        return v == null ? null : Instant.parse(v);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
