package dev.navil4j.chat;

import java.util.List;

/**
 * A chat as the reference {@code chat()} APIs see it: an optional system message, earlier turns with
 * their answers, and the new question (the last turn, answer null). Media belong to the turn that
 * introduced them.
 */
public record Conversation(String system, List<Turn> turns) {
    public record Turn(String user, List<Media> media, String assistant) {}

    /** An image file, a decoded image, or video frames. */
    public sealed interface Media permits Image, Video {}

    public record Image(java.nio.file.Path path, java.awt.image.BufferedImage image) implements Media {}

    public record Video(java.nio.file.Path path, int frames, double[] boundSeconds) implements Media {}
}
