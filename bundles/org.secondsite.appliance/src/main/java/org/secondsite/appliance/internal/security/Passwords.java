package org.secondsite.appliance.internal.security;

import java.security.SecureRandom;

/** Random passwords for generated accounts. */
final class Passwords {
    /** No look-alikes (0/O, 1/l/I) so a password read off a screen can be typed. */
    private static final char[] ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {
    }

    /** A password of {@code length} characters: about 5.8 bits each, so 24 give 140 bits. */
    static String generate(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(out);
    }
}
