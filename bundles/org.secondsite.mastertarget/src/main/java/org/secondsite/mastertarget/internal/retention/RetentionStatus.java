package org.secondsite.mastertarget.internal.retention;

import java.util.Optional;

import org.secondsite.api.model.RecoveryPoint;

/**
 * The retention journal's state.
 *
 * @param settings the settings in force
 * @param usedBytes bytes held by journal segments
 * @param segments number of journal segments
 * @param points number of listed recovery points
 * @param oldest the oldest listed point, if any
 * @param newest the newest listed point, if any
 * @param openViews views currently open (they pin their points)
 */
public record RetentionStatus(RetentionSettings settings, long usedBytes, int segments, int points,
                              Optional<RecoveryPoint> oldest, Optional<RecoveryPoint> newest, int openViews) {
}
