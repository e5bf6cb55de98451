package org.secondsite.agent.internal;

import java.util.Arrays;

/**
 * A fixed-size set of region indices {@code 0..size-1} as a bitmap of 64-bit words, with a
 * running count so that emptiness and size are O(1). Range operations work a word at a time.
 * Not thread-safe: its owner guards it.
 */
final class RegionSet {
    private final long size;
    final long[] words;
    private long count;

    RegionSet(long size) {
        if (size < 0 || size > (long) Integer.MAX_VALUE * 64) {
            throw new IllegalArgumentException("region count must be 0.." + (long) Integer.MAX_VALUE * 64 + ": " + size);
        }
        this.size = size;
        this.words = new long[(int) ((size + 63) >>> 6)];
    }

    /** Number of regions the set can hold. */
    long size() {
        return size;
    }

    /** Number of regions in the set. */
    long count() {
        return count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    boolean contains(long region) {
        return (words[(int) (region >>> 6)] & (1L << region)) != 0;
    }

    /** Whether every region of {@code [from, to)} is in the set. */
    boolean containsAll(long from, long to) {
        check(from, to);
        if (from == to) {
            return true;
        }
        int first = (int) (from >>> 6);
        int last = (int) ((to - 1) >>> 6);
        for (int w = first; w <= last; w++) {
            long mask = mask(w, from, to);
            if ((words[w] & mask) != mask) {
                return false;
            }
        }
        return true;
    }

    /** Adds {@code [from, to)}; returns how many regions were not in the set before. */
    long add(long from, long to) {
        check(from, to);
        if (from == to) {
            return 0;
        }
        long added = 0;
        int first = (int) (from >>> 6);
        int last = (int) ((to - 1) >>> 6);
        for (int w = first; w <= last; w++) {
            long mask = mask(w, from, to);
            long before = words[w];
            added += Long.bitCount(mask & ~before);
            words[w] = before | mask;
        }
        count += added;
        return added;
    }

    /** Removes {@code [from, to)}; returns how many regions were in the set. */
    long remove(long from, long to) {
        check(from, to);
        if (from == to) {
            return 0;
        }
        long removed = 0;
        int first = (int) (from >>> 6);
        int last = (int) ((to - 1) >>> 6);
        for (int w = first; w <= last; w++) {
            long mask = mask(w, from, to);
            long before = words[w];
            removed += Long.bitCount(mask & before);
            words[w] = before & ~mask;
        }
        count -= removed;
        return removed;
    }

    /** Adds every region of {@code other} (same size). */
    void addAll(RegionSet other) {
        sameSize(other);
        long c = 0;
        for (int w = 0; w < words.length; w++) {
            words[w] |= other.words[w];
            c += Long.bitCount(words[w]);
        }
        count = c;
    }

    /** Removes every region. */
    void clear() {
        Arrays.fill(words, 0);
        count = 0;
    }

    /** Replaces word {@code w} (bits beyond {@link #size()} are dropped); returns the old word. */
    long setWord(int w, long value) {
        if (w == words.length - 1 && (size & 63) != 0) {
            value &= -1L >>> (64 - (size & 63));
        }
        long before = words[w];
        words[w] = value;
        count += Long.bitCount(value) - Long.bitCount(before);
        return before;
    }

    /** The first region {@code >= from} in the set, or -1. */
    long nextSet(long from) {
        if (from >= size) {
            return -1;
        }
        int w = (int) (from >>> 6);
        long word = words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long r = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return r < size ? r : -1;
            }
            if (++w == words.length) {
                return -1;
            }
            word = words[w];
        }
    }

    /** The first region {@code >= from} not in the set, or {@link #size()}. */
    long nextClear(long from) {
        if (from >= size) {
            return size;
        }
        int w = (int) (from >>> 6);
        long word = ~words[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                return Math.min(size, ((long) w << 6) + Long.numberOfTrailingZeros(word));
            }
            if (++w == words.length) {
                return size;
            }
            word = ~words[w];
        }
    }

    RegionSet copy() {
        RegionSet c = new RegionSet(size);
        System.arraycopy(words, 0, c.words, 0, words.length);
        c.count = count;
        return c;
    }

    private static long mask(int w, long from, long to) {
        long lo = (long) w << 6;
        long m = -1L;
        if (from > lo) {
            m &= -1L << (from - lo);
        }
        if (to < lo + 64) {
            m &= -1L >>> (64 - (to - lo));
        }
        return m;
    }

    private void check(long from, long to) {
        if (from < 0 || to > size || from > to) {
            throw new IndexOutOfBoundsException("regions [" + from + ", " + to + ") outside 0.." + size);
        }
    }

    private void sameSize(RegionSet other) {
        if (other.size != size) {
            throw new IllegalArgumentException("region sets differ in size: " + size + " and " + other.size);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegionSet r && r.size == size && Arrays.equals(r.words, words);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("RegionSet[").append(count).append('/').append(size).append(':');
        int shown = 0;
        for (long r = nextSet(0); r >= 0 && shown < 8; shown++) {
            long end = nextClear(r);
            b.append(' ').append(r).append(end - r > 1 ? ".." + (end - 1) : "");
            r = nextSet(end);
        }
        return b.append(shown == 8 ? " ...]" : "]").toString();
    }
}
