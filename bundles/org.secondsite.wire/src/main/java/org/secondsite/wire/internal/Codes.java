package org.secondsite.wire.internal;

import org.secondsite.api.model.ChangeKind;
import org.secondsite.api.model.TagKind;

/** Wire codes of the model's enums, fixed by docs/PROTOCOL.md (never their ordinals). */
public final class Codes {
    private Codes() {
    }

    public static int changeKind(ChangeKind kind) {
        return switch (kind) {
            case WRITE -> 0;
            case ZERO -> 1;
            case TRIM -> 2;
            case DIRTY -> 3;
        };
    }

    /** The kind of a code, or {@code null}. */
    public static ChangeKind changeKind(int code) {
        return switch (code) {
            case 0 -> ChangeKind.WRITE;
            case 1 -> ChangeKind.ZERO;
            case 2 -> ChangeKind.TRIM;
            case 3 -> ChangeKind.DIRTY;
            default -> null;
        };
    }

    public static int tagKind(TagKind kind) {
        return switch (kind) {
            case APPLICATION -> 0;
            case BOOKMARK -> 1;
            case PLANNED_FAILOVER -> 2;
            case CHECKPOINT -> 3;
        };
    }

    /** The kind of a code, or {@code null}. */
    public static TagKind tagKind(int code) {
        return switch (code) {
            case 0 -> TagKind.APPLICATION;
            case 1 -> TagKind.BOOKMARK;
            case 2 -> TagKind.PLANNED_FAILOVER;
            case 3 -> TagKind.CHECKPOINT;
            default -> null;
        };
    }
}
