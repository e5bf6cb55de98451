package org.secondsite.capture.scan.internal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How a block is fingerprinted. Each kind stores {@link #words()} longs per block in the hash table.
 * One instance per scanning thread (the SHA-256 kind holds a {@link MessageDigest}).
 */
enum BlockHash {
    /** XXH64, seed 0: one long per block. The default: several times faster than SHA-256 in plain Java. */
    XXH64("xxh64", 1, 1),
    /** SHA-256 truncated to its first 128 bits: two longs per block. */
    SHA256("sha256", 2, 2);

    private final String option;
    private final int words;
    private final int id;

    BlockHash(String option, int words, int id) {
        this.option = option;
        this.words = words;
        this.id = id;
    }

    /** The value of the {@code hash} option that selects this kind. */
    String option() {
        return option;
    }

    /** Longs stored per block. */
    int words() {
        return words;
    }

    /** Identifier stored in the state file. */
    int id() {
        return id;
    }

    static BlockHash byOption(String value) {
        for (BlockHash h : values()) {
            if (h.option.equals(value)) {
                return h;
            }
        }
        return null;
    }

    static BlockHash byId(int id) {
        for (BlockHash h : values()) {
            if (h.id == id) {
                return h;
            }
        }
        return null;
    }

    /** A hasher of this kind, for one thread. */
    Hasher newHasher() {
        if (this == XXH64) {
            return (buf, offset, length, out, outIndex) -> out[outIndex] = Xxh64.hash(buf, offset, length, 0);
        }
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256 MessageDigest, which every Java SE must provide", e);
        }
        byte[] digest = new byte[32];
        ByteBuffer view = ByteBuffer.wrap(digest);
        return (buf, offset, length, out, outIndex) -> {
            ByteBuffer block = buf.duplicate();
            block.limit(offset + length).position(offset);
            md.update(block);
            try {
                md.digest(digest, 0, 32);
            } catch (java.security.DigestException e) {
                throw new IllegalStateException("SHA-256 digest into a 32-byte array failed", e);
            }
            out[outIndex] = view.getLong(0);
            out[outIndex + 1] = view.getLong(8);
        };
    }

    /** Writes the fingerprint of one block into {@code out[outIndex .. outIndex + words())}. */
    @FunctionalInterface
    interface Hasher {
        void hash(ByteBuffer buf, int offset, int length, long[] out, int outIndex);
    }
}
