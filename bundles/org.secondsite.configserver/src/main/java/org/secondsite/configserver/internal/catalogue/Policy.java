package org.secondsite.configserver.internal.catalogue;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

import org.secondsite.configserver.internal.ConfigServerException;

/**
 * A replication policy.
 *
 * @param id name of the policy (1-64 letters, digits, {@code . _ : -})
 * @param rpoThresholdSeconds recovery point objective: an alert is due when the RPO exceeds it
 * @param checkpointIntervalSeconds how often a crash-consistent recovery point is tagged
 * @param retentionWindowSeconds how far back recovery points are kept
 * @param retentionSpaceBytes space the retention journal may use per protected machine; 0 = no cap
 * @param appConsistencySchedule interval of application-consistent points as an ISO-8601 duration
 *        ({@code PT1H}), or {@code off}
 * @param compressor compressor plugin name ({@code lz4}, {@code zstd}, {@code none}, ...)
 * @param bandwidthSchedule the process server's limit towards the master target, e.g.
 *        {@code Mon-Fri 08:00-18:00=20MB/s, *=0}; empty = unlimited
 * @param createdAt when it was created (set by the catalogue)
 * @param updatedAt when it last changed (set by the catalogue)
 */
public record Policy(String id, int rpoThresholdSeconds, int checkpointIntervalSeconds, long retentionWindowSeconds,
                     long retentionSpaceBytes, String appConsistencySchedule, String compressor,
                     String bandwidthSchedule, Instant createdAt, Instant updatedAt) {

    /** Defaults of the optional fields (REST and shell). */
    public static final int DEFAULT_CHECKPOINT_INTERVAL_SECONDS = 300;
    public static final long DEFAULT_RETENTION_SPACE_BYTES = 0;
    public static final String DEFAULT_APP_CONSISTENCY_SCHEDULE = "PT1H";
    public static final String DEFAULT_COMPRESSOR = "lz4";
    public static final String DEFAULT_BANDWIDTH_SCHEDULE = "";

    /** Ids of policies, components, sites. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
    private static final Pattern COMPRESSOR = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    private static final Pattern BANDWIDTH_RULE = Pattern.compile(
            "(?:\\*|(?:[A-Za-z]{3}(?:-[A-Za-z]{3})?)?\\s*(?:\\d{1,2}:\\d{2}-\\d{1,2}:\\d{2})?)\\s*=\\s*"
                    + "\\d+(?:\\.\\d+)?\\s*(?:B|KB|MB|GB|KiB|MiB|GiB|Mbit|Gbit)?(?:/s)?");
    private static final long MAX_RETENTION_SECONDS = Duration.ofDays(365).toSeconds();

    /**
     * Checks every field, naming the first bad one and what it expects.
     *
     * @return this policy
     */
    public Policy validate() {
        if (id == null || !ID.matcher(id).matches()) {
            throw ConfigServerException.invalid("id", "id '" + id + "' is invalid: use 1-64 letters, digits, "
                    + "'.', '_', ':' or '-', starting with a letter or digit");
        }
        range("rpoThresholdSeconds", rpoThresholdSeconds, 1, 86_400);
        range("checkpointIntervalSeconds", checkpointIntervalSeconds, 1, 86_400);
        range("retentionWindowSeconds", retentionWindowSeconds, 60, MAX_RETENTION_SECONDS);
        range("retentionSpaceBytes", retentionSpaceBytes, 0, Long.MAX_VALUE);
        if (appConsistencySchedule == null) {
            throw ConfigServerException.invalid("appConsistencySchedule", "appConsistencySchedule is required: "
                    + "an ISO-8601 duration such as PT1H, or off");
        }
        if (!"off".equals(appConsistencySchedule)) {
            try {
                Duration d = Duration.parse(appConsistencySchedule);
                if (d.compareTo(Duration.ofMinutes(1)) < 0 || d.compareTo(Duration.ofDays(1)) > 0) {
                    throw ConfigServerException.invalid("appConsistencySchedule", "appConsistencySchedule must be "
                            + "between PT1M and P1D, was " + appConsistencySchedule);
                }
            } catch (DateTimeParseException e) {
                throw ConfigServerException.invalid("appConsistencySchedule", "appConsistencySchedule '"
                        + appConsistencySchedule + "' is neither an ISO-8601 duration (such as PT1H) nor off");
            }
        }
        if (compressor == null || !COMPRESSOR.matcher(compressor).matches()) {
            throw ConfigServerException.invalid("compressor", "compressor '" + compressor + "' is invalid: a plugin "
                    + "name such as lz4, zstd or none");
        }
        if (bandwidthSchedule == null || bandwidthSchedule.length() > 2000) {
            throw ConfigServerException.invalid("bandwidthSchedule", "bandwidthSchedule is required (empty for "
                    + "unlimited) and at most 2000 characters");
        }
        if (!bandwidthSchedule.isBlank()) {
            for (String rule : bandwidthSchedule.split(",")) {
                if (!BANDWIDTH_RULE.matcher(rule.trim()).matches()) {
                    throw ConfigServerException.invalid("bandwidthSchedule", "bandwidthSchedule rule '" + rule.trim()
                            + "' is invalid: expected [days] [HH:mm-HH:mm]=rate or *=rate, e.g. "
                            + "'Mon-Fri 08:00-18:00=20MB/s, *=0'");
                }
            }
        }
        return this;
    }

    /** This policy with the catalogue's times. */
    Policy withTimes(Instant created, Instant updated) {
        return new Policy(id, rpoThresholdSeconds, checkpointIntervalSeconds, retentionWindowSeconds,
                retentionSpaceBytes, appConsistencySchedule, compressor, bandwidthSchedule, created, updated);
    }

    private static void range(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw ConfigServerException.invalid(field, field + " must be between " + min + " and " + max
                    + ", was " + value);
        }
    }
}
