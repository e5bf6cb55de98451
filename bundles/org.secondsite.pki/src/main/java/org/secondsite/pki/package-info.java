/**
 * X.509 material for mutual TLS between SecondSite components: a certificate authority
 * that issues component certificates (the common name is the component id), PKCS#12 files
 * for them, and SSL contexts built from them. Used by the appliance's identity service and
 * by the configuration server when components register.
 */
@Export
@Version("1.2.0")
package org.secondsite.pki;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
