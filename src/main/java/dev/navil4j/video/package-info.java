/**
 * Video input for InternVL's {@code load_video}: {@link dev.navil4j.video.VideoReader} (FFmpeg via JavaCV,
 * frames in presentation order, libswscale RGB24 as PyAV/decord), {@link dev.navil4j.video.FrameSampler}
 * ({@code get_index}) and {@link dev.navil4j.models.internvl.InternVLVideo} ({@code load_video}: per-frame tiles and
 * {@code num_patches_list}).
 */
package dev.navil4j.video;
