package org.secondsite.configserver.internal.registration;

/**
 * What a component sends to register.
 *
 * @param passphrase the registration passphrase
 * @param componentId its id, to become its certificate's common name
 * @param role {@code agent}, {@code process-server} or {@code master-target}
 * @param site the site it belongs to (optional)
 * @param csr a PKCS#10 request in PEM for its own key pair
 * @param address host:port where other components reach its data listener (process servers and master
 *        targets), or null: the catalogue then keeps the client's address, which no job can route to
 */
public record RegistrationRequest(String passphrase, String componentId, String role, String site, String csr,
                                  String address) {
    public RegistrationRequest(String passphrase, String componentId, String role, String site, String csr) {
        this(passphrase, componentId, role, site, csr, null);
    }

    @Override
    public String toString() { // never shows the passphrase
        return "RegistrationRequest[componentId=" + componentId + ", role=" + role + ", site=" + site + "]";
    }
}
