package org.secondsite.configserver.internal;

import java.util.List;

/**
 * One page of a list.
 *
 * @param items the rows of this page
 * @param total how many rows the whole list has
 * @param offset index of the first row of this page in the whole list
 * @param limit the page size asked for
 */
public record Page<T>(List<T> items, long total, int offset, int limit) {
    /** Largest page a caller may ask for. */
    public static final int MAX_LIMIT = 500;
    /** Page size when the caller names none. */
    public static final int DEFAULT_LIMIT = 50;

    public Page {
        items = List.copyOf(items);
    }

    /** Checks paging parameters, naming the bad one. */
    public static void check(int offset, int limit) {
        if (offset < 0) {
            throw ConfigServerException.invalid("offset", "offset must be 0 or more, was " + offset);
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ConfigServerException.invalid("limit", "limit must be between 1 and " + MAX_LIMIT + ", was " + limit);
        }
    }
}
