package org.secondsite.storage.file.internal;

import java.io.IOException;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.secondsite.api.storage.ObjectStore;
import org.secondsite.api.storage.StorageBackend;
import org.secondsite.api.storage.Volume;

/** The OSGi shell of {@link FileStorageBackend}: registers it as {@code secondsite.storage=file}. */
@Component(name = "org.secondsite.storage.file", service = StorageBackend.class,
        property = StorageBackend.PROPERTY + "=" + FileStorageBackend.NAME,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = FileStorageConfig.class)
public final class FileStorageComponent implements StorageBackend {

    private final FileStorageBackend delegate;

    @Activate
    public FileStorageComponent(FileStorageConfig config) throws IOException {
        this.delegate = new FileStorageBackend(FileStorageBackend.resolveRoot(config.root(), System::getProperty));
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Volume openVolume(String name, long size) throws IOException {
        return delegate.openVolume(name, size);
    }

    @Override
    public boolean volumeExists(String name) throws IOException {
        return delegate.volumeExists(name);
    }

    @Override
    public List<String> volumes() throws IOException {
        return delegate.volumes();
    }

    @Override
    public void deleteVolume(String name) throws IOException {
        delegate.deleteVolume(name);
    }

    @Override
    public ObjectStore objects(String namespace) throws IOException {
        return delegate.objects(namespace);
    }

    @Override
    public long freeBytes() throws IOException {
        return delegate.freeBytes();
    }
}
