package org.secondsite.storage.file.internal;

/**
 * Validation of volume, namespace and object names: letters, digits and {@code . _ -},
 * 1 to 200 characters, never {@code .} or {@code ..}. Such a name is always a single path
 * element, so it cannot escape its directory.
 */
final class Names {

    static final int MAX_LENGTH = 200;

    private Names() {
    }

    /**
     * Returns {@code name} if valid.
     *
     * @param kind what is named, for the message ("volume name", "object name", ...)
     * @throws IllegalArgumentException saying what is wrong and what is expected
     */
    static String check(String kind, String name) {
        String problem = problem(name, false);
        if (problem != null) {
            throw new IllegalArgumentException("invalid " + kind + " '" + printable(name) + "': " + problem
                    + "; expected 1 to " + MAX_LENGTH + " letters, digits, '.', '_' or '-'");
        }
        return name;
    }

    /** Like {@link #check} but for a prefix, which may be empty. */
    static String checkPrefix(String kind, String prefix) {
        String problem = problem(prefix, true);
        if (problem != null) {
            throw new IllegalArgumentException("invalid " + kind + " prefix '" + printable(prefix) + "': " + problem
                    + "; expected up to " + MAX_LENGTH + " letters, digits, '.', '_' or '-'");
        }
        return prefix;
    }

    /** Whether a file name found on disk is a valid name (temporary files are not). */
    static boolean isValid(String name) {
        return problem(name, false) == null;
    }

    private static String problem(String name, boolean prefix) {
        if (name == null) {
            return "it is null";
        }
        if (name.isEmpty() && !prefix) {
            return "it is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "it is " + name.length() + " characters long";
        }
        if (!prefix && (name.equals(".") || name.equals(".."))) {
            return "'" + name + "' refers to a directory";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '_' || c == '-';
            if (!ok) {
                return "character " + describe(c) + " at index " + i + " is not allowed";
            }
        }
        return null;
    }

    private static String describe(char c) {
        return c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private static String printable(String name) {
        if (name == null) {
            return "null";
        }
        String shown = name.length() > 60 ? name.substring(0, 60) + "..." : name;
        StringBuilder sb = new StringBuilder(shown.length());
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return sb.toString();
    }
}
