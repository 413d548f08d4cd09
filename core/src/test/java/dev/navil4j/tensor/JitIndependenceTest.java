package dev.navil4j.tensor;

import dev.navil4j.nn.Attention;
import dev.navil4j.nn.Norms;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The kernels give the same bits whether or not C2 has compiled them: this JVM (warmed until the kernels are
 * compiled) and a child JVM limited to C1 (-XX:TieredStopAtLevel=1, where the Vector API runs its Java fallback)
 * hash the outputs of the GEMM, both attentions, softmax/SiLU/GELU, LayerNorm and the f32/bf16/Q8/Q4 GEMVs at the
 * same vector width. Before the fixed lane-sum order and the kernels' own exp, three fresh JVMs gave three
 * different attention outputs.
 */
class JitIndependenceTest {
    @Test
    void aC1OnlyJvmComputesTheSameBits() throws Exception {
        if (!Simd.VECTOR) return; // plain loops: nothing JIT-dependent in the Vector API
        long warm = 0;
        for (int i = 0; i < 30; i++) warm = Workload.hash();
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-XX:TieredStopAtLevel=1", "--add-modules", "jdk.incubator.vector", "-Dnavil4j.simd=" + Simd.BITS,
                "-cp", System.getProperty("java.class.path"), Workload.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(done, "the C1-only JVM did not finish");
        String[] lines = out.split("\n");
        assertEquals(Long.toHexString(warm), lines[lines.length - 1].trim(), "C2-compiled vs C1-only output hash (child said: " + out + ")");
    }

    /** The kernel workload, also the child JVM's main. */
    public static final class Workload {
        public static void main(String[] args) { System.out.println(Long.toHexString(hash())); }

        static long h;
        static void mix(float[] a) { for (float f : a) h = h * 31 + Float.floatToRawIntBits(f); }

        static float[] gauss(Random r, int n, float s) { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * s; return a; }

        static long hash() {
            h = 17;
            Random rnd = new Random(3);
            // GEMM with a partial K block and edge tiles
            int n = 29, k = Gemm.KC + 64, rows = 2 * Gemm.NR + 3; // k: a partial second K block, whole Q8/Q4 blocks
            float[] w = gauss(rnd, rows * k, 0.05f), x = gauss(rnd, n * k, 1f), y = new float[n * rows];
            WeightTensor wt = WeightTensor.ofFloats("w", w, rows, k);
            wt.matmul(x, n, y, null);
            mix(y);
            // GEMVs in every stored format
            for (String f : new String[]{"f32", "bf16", "f16", "q8", "q4"}) {
                WeightTensor c = QuantPolicy.apply(wt, f);
                float[] g = new float[rows];
                c.matmul(x, 1, g, null);
                mix(g);
            }
            // attention: vision segments and causal prefill
            int heads = 2, hd = 64, len = 150;
            float[] q = gauss(rnd, len * heads * hd, 1f), kk = gauss(rnd, len * heads * hd, 1f), v = gauss(rnd, len * heads * hd, 1f);
            float[] o = new float[len * heads * hd];
            Attention.segments(q, kk, v, len, heads, hd, 0.125f, new int[]{0, 100, len}, o);
            mix(o);
            Attention.causal(q, 70, 30, kk, v, heads, 1, hd, 0.125f, null, o);
            mix(o);
            // activations and norms
            float[] a = gauss(rnd, 1001, 3f), b = gauss(rnd, 1001, 1f);
            float[] a2 = a.clone();
            Kernels.gelu(a2, 0, a2.length);
            mix(a2);
            a2 = a.clone();
            Kernels.siluMul(a2, b, 0, a2.length);
            mix(a2);
            a2 = a.clone();
            mix(new float[]{Kernels.expShiftSum(a2, 0, a2.length, 2f)});
            mix(a2);
            float[] ln = new float[7 * 143], lw = gauss(rnd, 143, 1f), lb = gauss(rnd, 143, 1f);
            Norms.layerNorm(gauss(rnd, 7 * 143, 2f), ln, 7, 143, lw, lb, 1e-6f);
            mix(ln);
            return h;
        }
    }
}
