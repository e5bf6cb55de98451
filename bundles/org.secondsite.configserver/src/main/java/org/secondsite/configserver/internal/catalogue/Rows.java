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
 * The reads every catalogue table with a text {@code id} key shares: one row by id, and a page
 * ordered by id with the total. Table and column names are constants of the stores, never input;
 * values are bound parameters.
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

    Optional<T> find(String id) throws SQLException {
        try (Connection c = catalogue.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + columns + " FROM " + table + " WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(reader.read(rs)) : Optional.empty();
            }
        }
    }

    Page<T> page(int offset, int limit) throws SQLException {
        Page.check(offset, limit);
        try (Connection c = catalogue.connection()) {
            long total;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                total = rs.getLong(1);
            }
            List<T> items = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + columns + " FROM " + table
                    + " ORDER BY id OFFSET ? ROWS FETCH NEXT ? ROWS ONLY")) {
                ps.setInt(1, offset);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        items.add(reader.read(rs));
                    }
                }
            }
            return new Page<>(items, total, offset, limit);
        }
    }
}
