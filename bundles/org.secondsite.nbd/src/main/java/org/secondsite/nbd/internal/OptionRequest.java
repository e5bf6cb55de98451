package org.secondsite.nbd.internal;

import java.util.List;

/**
 * A decoded handshake option: what the connection should do with it.
 *
 * @param option the option code as sent
 * @param action what to do
 * @param exportName the export asked for (EXPORT_NAME, INFO, GO); null otherwise
 * @param infoTypes the information types the client asked for, in order, duplicates removed (INFO, GO)
 * @param errorReply for {@link Action#REFUSE}: the NBD_REP_ERR_* value to reply with
 * @param message for {@link Action#REFUSE}: a human-readable reason, sent with the error reply
 */
record OptionRequest(int option, Action action, String exportName, List<Integer> infoTypes, int errorReply,
        String message) {

    enum Action { EXPORT_NAME, ABORT, LIST, INFO, GO, REFUSE }

    static OptionRequest of(int option, Action action) {
        return new OptionRequest(option, action, null, List.of(), 0, null);
    }

    static OptionRequest refuse(int option, int errorReply, String message) {
        return new OptionRequest(option, Action.REFUSE, null, List.of(), errorReply, message);
    }
}
