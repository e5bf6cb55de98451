package org.secondsite.api.hypervisor;

/** The hypervisor manager refused a request or could not be reached. */
public class HypervisorException extends Exception {
    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
