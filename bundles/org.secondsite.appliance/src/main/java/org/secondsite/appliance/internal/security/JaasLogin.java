package org.secondsite.appliance.internal.security;

import java.util.HashSet;
import java.util.Set;

import javax.security.auth.Subject;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;

import org.apache.karaf.jaas.boot.ProxyLoginModule;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;

/** A login against the appliance's {@code karaf} JAAS realm. */
public final class JaasLogin {
    private static final String REALM = "karaf";

    private JaasLogin() {
    }

    /**
     * Logs {@code user} in.
     *
     * @return the user's roles
     * @throws Exception if the realm refuses the credentials
     */
    public static Set<String> login(String user, char[] password) throws Exception {
        Subject subject = new Subject();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        // LoginContext loads the login module through the context class loader; Karaf's proxy lives on the boot path.
        thread.setContextClassLoader(ProxyLoginModule.class.getClassLoader());
        try {
            LoginContext lc = new LoginContext(REALM, subject, callbacks -> {
                for (var cb : callbacks) {
                    if (cb instanceof NameCallback name) {
                        name.setName(user);
                    } else if (cb instanceof PasswordCallback pw) {
                        pw.setPassword(password);
                    } else {
                        throw new UnsupportedCallbackException(cb);
                    }
                }
            });
            lc.login();
        } finally {
            thread.setContextClassLoader(previous);
        }
        Set<String> roles = new HashSet<>();
        for (RolePrincipal p : subject.getPrincipals(RolePrincipal.class)) {
            roles.add(p.getName());
        }
        return roles;
    }
}
