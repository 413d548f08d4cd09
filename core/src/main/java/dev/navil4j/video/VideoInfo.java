package dev.navil4j.video;

/** Basic stream facts: the frame count ({@code len(vr)} of decord), average frame rate, frame size. */
public record VideoInfo(int numFrames, double fps, int width, int height) {}
