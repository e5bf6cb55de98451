package org.secondsite.configserver.internal.registration;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The registration passphrase: 192 random bits (32 URL-safe base64 characters), created on first
 * use, kept only in one owner-readable file. Checks compare SHA-256 digests with
 * {@link MessageDigest#isEqual}, so the time taken does not depend on how much of a guess is
 * right. Rotating replaces the file atomically; registered components keep their certificates.
 * Never logged, and {@link #toString()} does not show it.
 */
import org.secondsite.pki.OwnerOnlyFiles;

public final class Passphrase {
    /** Random bytes per passphrase: 192 bits. */
    static final int BYTES = 24;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_FILE_BYTES = 1024;

    private final Path file;
    private volatile String value;
    private volatile byte[] digest;

    private Passphrase(Path file, String value) {
        this.file = file;
        set(value);
    }

    /** Reads the passphrase file, creating it with a new passphrase when missing or empty. */
    public static Passphrase loadOrCreate(Path file) throws IOException {
        if (Files.isRegularFile(file) && Files.size(file) > 0) {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IOException("passphrase file " + file + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            String v = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (v.length() >= 22) { // 128 bits in base64
                return new Passphrase(file, v);
            }
            throw new IOException("passphrase file " + file + " holds fewer than 128 bits; delete it to generate a new one");
        }
        String v = generate();
        write(file, v);
        return new Passphrase(file, v);
    }

    /** Whether {@code candidate} is the passphrase, in time independent of the content. */
    public boolean matches(String candidate) {
        if (candidate == null) {
            return false;
        }
        return MessageDigest.isEqual(digest, sha256(candidate));
    }

    /** The passphrase, for an administrator to hand to whoever installs a component. */
    public String reveal() {
        return value;
    }

    /** Replaces the passphrase with a new random one, on disk first. */
    public synchronized void rotate() throws IOException {
        String v = generate();
        write(file, v);
        set(v);
    }

    public Path file() {
        return file;
    }

    @Override
    public String toString() {
        return "Passphrase[" + file + "]";
    }

    private void set(String v) {
        digest = sha256(v);
        value = v;
    }

    static String generate() {
        byte[] b = new byte[BYTES];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static void write(Path file, String v) throws IOException {
        OwnerOnlyFiles.write(file, (v + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
