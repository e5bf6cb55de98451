package org.secondsite.appliance.internal.rest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.secondsite.api.appliance.ExtensionPoint;
import org.secondsite.api.appliance.PluginInfo;

class PluginsResourceTest {
    @Test
    void pluginsAreGroupedByExtensionPointInDeclarationOrderAndEmptyPointsAreListed() {
        PluginsResource.Plugins p = PluginsResource.group(List.of(
                new PluginInfo(ExtensionPoint.COMPRESSOR, "zstd", "org.secondsite.compress.zstd", "0.1.0", "ACTIVE"),
                new PluginInfo(ExtensionPoint.TRANSPORT, "tls", "org.secondsite.transport.tls", "0.1.0", "ACTIVE"),
                new PluginInfo(ExtensionPoint.COMPRESSOR, "lz4", "org.secondsite.compress.lz4", "0.1.0", "RESOLVED")));
        assertEquals(3, p.total());
        assertEquals(List.of("capture", "compressor", "transport", "storage", "hypervisor"),
                p.extensionPoints().stream().map(PluginsResource.Point::id).toList());
        PluginsResource.Point compressors = p.extensionPoints().get(1);
        assertEquals("org.secondsite.api.compress.Compressor", compressors.service());
        assertEquals(List.of(new PluginsResource.Plugin("lz4", "org.secondsite.compress.lz4", "0.1.0", "RESOLVED"),
                new PluginsResource.Plugin("zstd", "org.secondsite.compress.zstd", "0.1.0", "ACTIVE")),
                compressors.plugins());
        assertEquals(List.of(), p.extensionPoints().get(4).plugins());
    }
}
