package org.secondsite.demo.internal;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "dr", name = "demo",
        description = "Protects a sample disk, writes to it over NBD as a workload would, and shows it replicated.",
        detailedDescription = "For an all-in-one appliance. Creates data/secondsite/demo/demo-disk0.img (256 MiB), "
                + "protects it with the nbd capture driver on 127.0.0.1:10809 (an agent disk configuration, as "
                + "etc/org.secondsite.agent.disk-*.cfg would), writes mixed data to it through NBD, waits until the "
                + "master target has applied every batch, then compares the SHA-256 of source and replica.")
public class DemoCommand implements Action {

    @Option(name = "--mib", description = "MiB to write (default 96).")
    int mib = 96;

    @Reference
    DemoComponent demo;

    @Override
    public Object execute() throws Exception {
        if (mib < 1 || mib > 4096) {
            System.err.println("Error: --mib must be between 1 and 4096");
            return null;
        }
        boolean same = demo.run(System.out::println, (long) mib << 20);
        return same ? null : "replica differs from source";
    }
}
