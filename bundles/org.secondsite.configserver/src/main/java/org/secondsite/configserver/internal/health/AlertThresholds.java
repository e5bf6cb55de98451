package org.secondsite.configserver.internal.health;

import java.time.Duration;

/**
 * When the configuration server raises alerts; the defaults are Azure Site Recovery's.
 *
 * @param defaultRpoThreshold RPO above which a disk without a policy is in alert (30 min); a disk
 *        whose machine or consistency group has a policy uses that policy's threshold
 * @param spoolWarningPercent a process server's spool free space below this is a warning (30 %)
 * @param spoolCriticalPercent ... and below this, critical (25 %)
 * @param heartbeatTimeout a registered component silent for this long is in alert (15 min)
 */
public record AlertThresholds(Duration defaultRpoThreshold, double spoolWarningPercent, double spoolCriticalPercent,
                              Duration heartbeatTimeout) {
    public static final AlertThresholds DEFAULTS = new AlertThresholds(Duration.ofMinutes(30), 30, 25,
            Duration.ofMinutes(15));

    /** @throws IllegalArgumentException naming the setting that is out of range */
    public AlertThresholds {
        if (defaultRpoThreshold == null || defaultRpoThreshold.isNegative() || defaultRpoThreshold.isZero()) {
            throw new IllegalArgumentException("the default RPO threshold must be positive, was " + defaultRpoThreshold);
        }
        if (heartbeatTimeout == null || heartbeatTimeout.isNegative() || heartbeatTimeout.isZero()) {
            throw new IllegalArgumentException("the heartbeat timeout must be positive, was " + heartbeatTimeout);
        }
        if (!(spoolWarningPercent > 0 && spoolWarningPercent <= 100)) {
            throw new IllegalArgumentException("spoolWarningPercent must be above 0 and at most 100, was "
                    + spoolWarningPercent);
        }
        if (!(spoolCriticalPercent > 0 && spoolCriticalPercent <= spoolWarningPercent)) {
            throw new IllegalArgumentException("spoolCriticalPercent must be above 0 and at most spoolWarningPercent ("
                    + spoolWarningPercent + "), was " + spoolCriticalPercent);
        }
    }
}
