package dev.navil4j.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Turns the job's model string into something {@link dev.navil4j.Navil4j#load(String)} reads on this host: a local
 * directory is used as is, a hub id is passed through (the HF cache resolves it), and a Hadoop path (any URI with a
 * scheme other than {@code file}) is copied once into a per-host cache directory under {@code java.io.tmpdir}.
 * The copy goes to a temporary sibling first and is renamed into place, so two executors on one host that copy at
 * once both end with a complete directory and never read a half-written one.
 */
final class ModelLocator {
    private ModelLocator() {}

    /** The local directory or hub id to load. */
    static String localize(String model) {
        if (Files.isDirectory(Path.of(stripFileScheme(model)))) return stripFileScheme(model);
        URI uri = hadoopUri(model);
        if (uri == null) return model; // a hub id (org/name[@rev]) or a missing path: Navil4j.load says which
        return copyToLocal(uri).toString();
    }

    private static String stripFileScheme(String model) {
        if (model.startsWith("file:")) return Path.of(URI.create(model)).toString();
        return model;
    }

    /** A URI with a Hadoop file-system scheme (hdfs, s3a, abfs, gs, …), or null. */
    static URI hadoopUri(String model) {
        int colon = model.indexOf("://");
        if (colon <= 1) return null;
        String scheme = model.substring(0, colon);
        if (!scheme.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.')) return null;
        return URI.create(model);
    }

    private static Path copyToLocal(URI uri) {
        Path cacheRoot = Path.of(System.getProperty("java.io.tmpdir"), "navil4j-spark-models");
        Path target = cacheRoot.resolve(digest(uri.toString()));
        if (Files.isDirectory(target)) return target;
        Path partial = cacheRoot.resolve(target.getFileName() + ".part-" + ProcessHandle.current().pid() + "-" + Thread.currentThread().threadId());
        try {
            Files.createDirectories(partial);
            FileSystem fs = FileSystem.get(uri, new Configuration());
            org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
            if (!fs.getFileStatus(src).isDirectory())
                throw new IllegalArgumentException("model path is not a directory: " + uri);
            for (FileStatus f : fs.listStatus(src)) {
                // a checkpoint directory is flat (config.json, *.safetensors, tokenizer files)
                if (f.isFile()) fs.copyToLocalFile(false, f.getPath(), new org.apache.hadoop.fs.Path(partial.resolve(f.getPath().getName()).toUri()), true);
            }
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | java.nio.file.FileAlreadyExistsException e) {
                if (!Files.isDirectory(target)) throw e;
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // another executor on this host finished its copy first: keep that one
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("copying the model from " + uri + " to local disk failed: " + e.getMessage(), e);
        } finally {
            deleteQuietly(partial);
        }
    }

    private static String digest(String s) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temporary copy costs disk space only
        }
    }
}
