package org.secondsite.api.capture;

import java.io.IOException;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Turns the writes made to a protected disk into an ordered stream of change records.
 * Register an implementation as an OSGi service with the property {@value #PROPERTY}
 * set to its {@link #name()}; the agent starts one {@link CaptureSession} per protected
 * disk with the driver its policy names.
 *
 * <p>A driver that sees every write (such as {@code nbd}) passes each one to the sink
 * <em>before</em> acknowledging it to the workload, in acknowledgement order. A driver that
 * only detects changes after the fact (such as {@code scan}) passes the changed ranges it
 * finds, with their data when it has read them.
 */
@ConsumerType
public interface CaptureDriver {
    /** Service property naming the driver, e.g. {@code secondsite.capture=nbd}. */
    String PROPERTY = "secondsite.capture";

    /** The driver's name, equal to its {@value #PROPERTY} service property. */
    String name();

    /**
     * Starts capturing {@code spec}'s disk into {@code sink}. Returns once capture is in
     * effect: from then on no write is missed.
     *
     * @throws IOException if the disk cannot be opened or the capture cannot start
     */
    CaptureSession start(CaptureSpec spec, ChangeSink sink) throws IOException;
}
