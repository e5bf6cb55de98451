package org.secondsite.wire.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.secondsite.wire.WireProtocol;

/** Rules of the protocol's field types, shared by encoder, decoder and message records. */
public final class Fields {
    private Fields() {
    }

    /** Whether {@code c} may appear in an id: letters, digits, {@code . _ : -}. */
    public static boolean idChar(int c, boolean first) {
        boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        return first ? alnum : alnum || c == '.' || c == '_' || c == ':' || c == '-';
    }

    /** Whether {@code c} may appear in a compressor name: lowercase letters and digits. */
    public static boolean compressorChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    /** Whether {@code c} may appear in a token (capability, figure key). */
    public static boolean tokenChar(int c, boolean first) {
        boolean alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        return first ? alnum : alnum || c == '.' || c == '_' || c == ':' || c == '-';
    }

    /** @throws IllegalArgumentException unless {@code value} is a valid id */
    public static String checkId(String what, String value) {
        if (value == null || value.isEmpty() || value.length() > WireProtocol.MAX_ID_LENGTH) {
            throw new IllegalArgumentException(what + " must be 1-" + WireProtocol.MAX_ID_LENGTH + " characters: " + value);
        }
        for (int i = 0; i < value.length(); i++) {
            if (!idChar(value.charAt(i), i == 0)) {
                throw new IllegalArgumentException(what + " '" + value
                        + "' is invalid: use letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
            }
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code value} is a valid compressor name */
    public static String checkCompressor(String value) {
        if (value == null || value.isEmpty() || value.length() > WireProtocol.MAX_COMPRESSOR_NAME_LENGTH) {
            throw new IllegalArgumentException("compressor name must be 1-" + WireProtocol.MAX_COMPRESSOR_NAME_LENGTH
                    + " characters: " + value);
        }
        for (int i = 0; i < value.length(); i++) {
            if (!compressorChar(value.charAt(i))) {
                throw new IllegalArgumentException("compressor name '" + value + "' is invalid: use lowercase letters and digits");
            }
        }
        return value;
    }

    /** @throws IllegalArgumentException unless {@code value} is a valid token */
    public static String checkToken(String what, String value) {
        if (value == null || value.isEmpty() || value.length() > WireProtocol.MAX_TOKEN_LENGTH) {
            throw new IllegalArgumentException(what + " must be 1-" + WireProtocol.MAX_TOKEN_LENGTH + " characters: " + value);
        }
        for (int i = 0; i < value.length(); i++) {
            if (!tokenChar(value.charAt(i), i == 0)) {
                throw new IllegalArgumentException(what + " '" + value
                        + "' is invalid: use lowercase letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
            }
        }
        return value;
    }

    /**
     * The text as it will travel: unpaired surrogates replaced, cut at a character boundary
     * to at most {@link WireProtocol#MAX_TEXT_BYTES} UTF-8 bytes. {@code null} becomes "".
     */
    public static String normalizeText(String text) {
        if (text == null || text.isEmpty()) {
            return "";
        }
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int n = b.length;
        if (n > WireProtocol.MAX_TEXT_BYTES) {
            n = WireProtocol.MAX_TEXT_BYTES;
            while (n > 0 && (b[n] & 0xC0) == 0x80) {
                n--;
            }
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * Microseconds since the epoch, truncating below a microsecond.
     *
     * @throws IllegalArgumentException if the instant is too far from the epoch for 64 bits
     */
    public static long micros(Instant t) {
        try {
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("time " + t + " cannot be written as 64-bit epoch microseconds", e);
        }
    }

    /** The instant of {@code micros} microseconds since the epoch; defined for every long. */
    public static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }
}
