package org.secondsite.api.appliance;

import org.secondsite.api.capture.CaptureDriver;
import org.secondsite.api.compress.Compressor;
import org.secondsite.api.hypervisor.HypervisorConnector;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.transport.Transport;

/** The plugin extension points, with their service interface and identity property. */
public enum ExtensionPoint {
    CAPTURE("capture", CaptureDriver.class, CaptureDriver.PROPERTY),
    COMPRESSOR("compressor", Compressor.class, Compressor.PROPERTY),
    TRANSPORT("transport", Transport.class, Transport.PROPERTY),
    STORAGE("storage", StorageBackend.class, StorageBackend.PROPERTY),
    HYPERVISOR("hypervisor", HypervisorConnector.class, HypervisorConnector.PROPERTY);

    private final String id;
    private final Class<?> service;
    private final String property;

    ExtensionPoint(String id, Class<?> service, String property) {
        this.id = id;
        this.service = service;
        this.property = property;
    }

    /** Short name for displays, e.g. {@code compressor}. */
    public String id() {
        return id;
    }

    /** The service interface plugins register. */
    public Class<?> service() {
        return service;
    }

    /** The service property carrying the plugin's name. */
    public String property() {
        return property;
    }
}
