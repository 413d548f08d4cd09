/**
 * Video input for InternVL's {@code load_video}: {@link dev.navil4j.video.Videos} (opens a video through the
 * {@link dev.navil4j.video.VideoDecoder} on the class path: the optional {@code navil4j-video} module's FFmpeg decoder,
 * frames in presentation order, libswscale RGB24 as PyAV/decord), {@link dev.navil4j.video.FrameSampler}
 * ({@code get_index}) and {@link dev.navil4j.models.internvl.InternVLVideo} ({@code load_video}: per-frame tiles and
 * {@code num_patches_list}).
 */
package dev.navil4j.video;
