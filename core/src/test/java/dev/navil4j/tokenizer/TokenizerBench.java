package dev.navil4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Encode throughput of the pure-Java tokenizers (test-scope main, no JMH):
 * {@code java -cp target/classes:target/test-classes:<deps> dev.navil4j.tokenizer.TokenizerBench [modelDir]}.
 * The corpus is seeded random multilingual text (RandomText) plus its English-only words; the BPE word
 * cache is cleared between rounds only by its own bound, as in real use.
 */
public final class TokenizerBench {
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "fixtures/tokenizer-qwen2.5/model");
        long t0 = System.nanoTime();
        Tokenizer t = Tokenizers.load(dir);
        System.out.printf("load %s: %.0f ms%n", dir, (System.nanoTime() - t0) / 1e6);
        RandomText gen = new RandomText(42, List.of());
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 2_000_000) sb.append(gen.next()).append('\n');
        String corpus = sb.toString();
        double mb = corpus.getBytes(StandardCharsets.UTF_8).length / 1e6;
        // thread CPU time as well as wall time: on a shared machine the wall clock mostly measures waiting
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 6; round++) {
            long s = System.nanoTime(), cpu0 = mx.getCurrentThreadCpuTime();
            int[] ids = t.encode(corpus, false);
            double sec = (System.nanoTime() - s) / 1e9, cpuSec = (mx.getCurrentThreadCpuTime() - cpu0) / 1e9;
            long d0 = System.nanoTime();
            String back = t.decode(ids, false);
            double dsec = (System.nanoTime() - d0) / 1e9;
            System.out.printf("round %d: encode %.2f MB: wall %.3f s = %.2f MB/s, cpu %.3f s = %.2f MB/s (%d ids); decode %.2f MB/s wall%s%n",
                    round, mb, sec, mb / sec, cpuSec, mb / cpuSec, ids.length, mb / dsec,
                    // byte-level BPE round-trips NFC text exactly (InternLM2's decode cleans up spaces, so no check there)
                    !(t instanceof ByteLevelBpeTokenizer) || back.equals(java.text.Normalizer.normalize(corpus, java.text.Normalizer.Form.NFC))
                            ? "" : " (decode != NFC(text))");
        }
    }
}
