package org.secondsite.api.storage;

/** A replica volume held by a {@link StorageBackend}, known by its name. */
public interface Volume extends BlockDevice {
    /** The name the volume was opened with. */
    String name();
}
