package org.secondsite.configserver.internal.catalogue;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Calendar;
import java.util.TimeZone;

/** Small JDBC helpers: every time is stored as a UTC TIMESTAMP. */
public final class Sql {
    /** Passed to every timestamp read and write so the JVM's zone never shifts stored times. */
    public static final Calendar UTC = Calendar.getInstance(TimeZone.getTimeZone("UTC"));

    private Sql() {
    }

    public static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    public static void setInstant(PreparedStatement ps, int index, Instant instant) throws SQLException {
        if (instant == null) {
            ps.setNull(index, java.sql.Types.TIMESTAMP);
        } else {
            ps.setTimestamp(index, Timestamp.from(instant), (Calendar) UTC.clone());
        }
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column, (Calendar) UTC.clone());
        return t == null ? null : t.toInstant();
    }

    /** Derby's SQL state for a duplicate key. */
    public static boolean isDuplicateKey(SQLException e) {
        return "23505".equals(e.getSQLState());
    }

    /** Derby's SQL state for a foreign key that still has dependants. */
    public static boolean isReferenced(SQLException e) {
        return "23503".equals(e.getSQLState());
    }
}
