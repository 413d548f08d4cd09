package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;

/** Fixture cases of kind(s) video. */
public final class VideoCases {
    private VideoCases() {}

    public static CaseResult video(Fixture fx, JsonNode c) throws Exception {
        return CaseResult.skip("video not implemented yet");
    }
}
