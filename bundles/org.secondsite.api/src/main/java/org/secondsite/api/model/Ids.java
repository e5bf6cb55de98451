package org.secondsite.api.model;

import java.util.Objects;
import java.util.regex.Pattern;

/** Validation shared by the identity types of this package. */
final class Ids {
    /** Letters, digits and {@code . _ : -}; 1 to 128 characters; starts with a letter or digit. */
    static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    private Ids() {
    }

    static String check(String kind, String value) {
        Objects.requireNonNull(value, kind + " must not be null");
        if (!PATTERN.matcher(value).matches()) {
            throw new IllegalArgumentException(kind + " '" + abbreviate(value)
                    + "' is invalid: use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit");
        }
        return value;
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
