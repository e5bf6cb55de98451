package org.secondsite.storage.file.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.StringLength;

class NamesProperties {

    private static final Path DIR = Path.of("/srv/objects/ns");

    @Property(tries = 2000)
    void anyAcceptedNameStaysInsideItsDirectory(@ForAll @StringLength(max = 210) @Chars({'.', '/', '\\', '_', '-',
            '~', ' ', '\0'}) @CharRange(from = 'a', to = 'c') String name) {
        boolean expectedValid = !name.isEmpty() && name.length() <= 200 && !name.equals(".") && !name.equals("..")
                && name.chars().allMatch(c -> (c >= 'a' && c <= 'c') || c == '.' || c == '_' || c == '-');
        if (expectedValid) {
            Names.check("object name", name);
            Path resolved = DIR.resolve(name).normalize();
            assertEquals(DIR, resolved.getParent(), name);
        } else {
            assertThrows(IllegalArgumentException.class, () -> Names.check("object name", name));
        }
    }
}
