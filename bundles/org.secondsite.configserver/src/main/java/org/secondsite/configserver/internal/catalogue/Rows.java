package org.secondsite.configserver.internal.catalogue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.secondsite.configserver.internal.Page;

/**
 * The reads every catalogue table with an {@code id} key shares: one row by id, and a page with the
 * total, ordered by id or by a store's order and optionally filtered. Table and column names, filters
 * and orders are constants of the stores, never input; values are bound parameters.
 */
final class Rows<T> {
    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Reader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private final Catalogue catalogue;
    private final String table;
    private final String columns;
    private final Reader<T> reader;

    Rows(Catalogue catalogue, String table, String columns, Reader<T> reader) {
        this.catalogue = catalogue;
        this.table = table;
        this.columns = columns;
        this.reader = reader;
    }

    /** The row with this id (a text or numeric key, as the table has). */
    Optional<T> find(Object id) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + columns + " FROM " + table + " WHERE id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(reader.read(rs)) : Optional.empty();
            }
        }
    }

    /** A page of the whole table ordered by id. */
    Page<T> page(int offset, int limit) throws SQLException {
        return page(offset, limit, null, "id");
    }

    /**
     * A page of the rows matching {@code where} (null: all), in {@code order}.
     *
     * @param where a constant condition with {@code ?} for each of {@code params}
     * @param order a constant ORDER BY list, e.g. {@code id DESC}
     */
    Page<T> page(int offset, int limit, String where, String order, Object... params) throws SQLException {
        Page.check(offset, limit);
        String filter = where == null ? "" : " WHERE " + where;
        try (Connection c = catalogue.connection()) {
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table + filter)) {
                bind(ps, params);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    total = rs.getLong(1);
                }
            }
            List<T> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + columns + " FROM " + table + filter
                    + " ORDER BY " + order + " OFFSET ? ROWS FETCH NEXT ? ROWS ONLY")) {
                bind(ps, params);
                ps.setInt(params.length + 1, offset);
                ps.setInt(params.length + 2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(reader.read(rs));
                    }
                }
            }
            return new Page<>(items, total, offset, limit);
        }
    }

    private static void bind(PreparedStatement ps, Object[] params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
    }
}
