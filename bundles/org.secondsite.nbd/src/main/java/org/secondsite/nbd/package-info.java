/**
 * A generic NBD server: {@link org.secondsite.nbd.NbdServer} serves named
 * {@link org.secondsite.nbd.Export exports}, each backed by a {@link org.secondsite.api.storage.BlockDevice},
 * read-only or writable, optionally with a {@link org.secondsite.nbd.WriteObserver} that sees every change
 * before it is acknowledged (the capture driver). {@link org.secondsite.nbd.OverlayDevice} makes a read-only
 * device writable with a discarded scratch file; {@link org.secondsite.nbd.ImageCopy} copies a device to a
 * sparse raw image. No OSGi types: plain classes, usable from any component.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.secondsite.nbd;
