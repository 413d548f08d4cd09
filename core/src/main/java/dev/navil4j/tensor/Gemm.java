package dev.navil4j.tensor;


/**
 * Packed, register-blocked GEMM for prefill and vision encoders: out[n, rows] = x[n, K]·Wᵀ (+ bias).
 * <p>Goto/BLIS structure, with the roles of the operands chosen for a weight-stationary layer:
 * <ul>
 * <li>activations are packed once per call into MR-token micro-panels {@code [tile][K][MR]} (zero padded);</li>
 * <li>weights are widened to f32 and packed per block of {@value #KC} columns into NR-row micro-panels
 * {@code [k][NR]} (so bf16/f16/Q8/Q4 are converted once per panel, not per token; the transpose by vector
 * gathers, {@link VectorKernels#packPanel});</li>
 * <li>the MR×NR micro-kernel ({@link VectorKernels#gemmFullTile}), NR = two float vectors. With 16 registers
 * (AVX2) MR = 6: 12 accumulators + 2 weight vectors + 1 broadcast, 12 FMAs per 2 weight loads + 6 broadcasts. On
 * a Zen 3 (2 FMA pipes, latency 4) the 4×16 tile's 8 accumulators were not enough: isolated kernel, L2-resident
 * panels, 1 thread, 71.5 (4×16) / 84.9 (5×16) / 88.4 (6×16) GFLOP/s against an 88 GFLOP/s FMA peak in the same
 * minute; one InternViT-300M tile on 2 threads, old/new jar alternated 3×, 7.1–9.2 s (4×16) vs 5.9–7.3 s (6×16).
 * With 32 registers (AVX-512) MR = 12: 24 accumulators, 24 FMAs per 2 weight loads. On a Sapphire-Rapids-class
 * host at 512 bits (GemmShapesBench, the InternViT layer's four GEMMs at 1025 tokens, 2 threads, alternated twice)
 * 306 / 315 GFLOP/s against 260 / 247 for 6×32, of a 440–454 GFLOP/s FMA peak; the 6-row kernel alone reaches
 * ~90 % of peak with its KC-deep weight panel in L1 but ~72 % when it streams from L2, the 12-row one 81–95 %.
 * C2 allocates the registers without spilling as long as the bodies stay written out. Each output's sum over k
 * runs in the same order at either MR, so the MR change leaves results bit-identical.</li>
 * </ul>
 * Work is split over 16-row panels on the {@link Parallel} pool; every output element is written by one thread.
 */
public final class Gemm {
    /**
     * Micro-tile: MR tokens × NR output rows, NR = two float vectors (16 at 256 bits, 8 at 128, 32 at 512; 16 for
     * the plain loops). Packed weight panels and the attention's panels follow NR.
     */
    public static final int MR = Simd.VECTOR && Simd.BITS >= 512 ? 12 : 6, NR = Simd.VECTOR ? 2 * Simd.floatLanes() : 16;
    /**
     * K block. The C tile is read and written once per K block, and C (tokens × rows, megabytes) lives in
     * L3: with 256 those C round trips cost ~20 % of the 1024³ GEMM. With 1024 a 16-row weight panel is
     * 64 KiB and streams from L2 next to an 8-tile activation block (128 KiB). Measured, 1 thread, f32 1024³,
     * best of 12 per JVM over two JVMs each: KC/MC 256/32 46–73 GFLOP/s (run to run), 1024/16 51–65,
     * 1024/8 80–83, 1024/4 84–86, 512/8 68–80.
     */
    static final int KC = 1024;
    /**
     * Token tiles per M block: 48 tokens (an activation block of 48 × KC, 192 KiB, in L2) at either MR. At 512
     * bits, 2 threads, InternViT shapes (GemmShapesBench): MR 12 with 4 tiles 306/315 GFLOP/s, 8 tiles 279/286,
     * 16 tiles 297/291.
     */
    static final int MC_TILES = 48 / MR;
    /**
     * Packed activations per token chunk. 13 tiles of one photo (13,325 tokens, 54 MB packed at K = 1024) in one
     * chunk cost 46.1 s against 44.7 s for 13 single tiles: every pass over a weight panel group re-read all of it.
     */
    static final long A_CHUNK_BYTES = 20L << 20;
    /** Weight panels packed per K block and thread (NC = 4·16 = 64 rows, 256 KiB). */
    static final int NC_PANELS = Integer.getInteger("navil4j.gemm.nc", 4); // tunable for CPUs with other L2 sizes

    private static final ThreadLocal<float[]> PACK_A = new ThreadLocal<>();
    private static final ThreadLocal<float[]> PACK_B = new ThreadLocal<>();
    private static final ThreadLocal<float[]> ROWS = new ThreadLocal<>();

    private Gemm() {}

    static float[] buffer(ThreadLocal<float[]> tl, int size) {
        float[] b = tl.get();
        if (b == null || b.length < size) { b = new float[size]; tl.set(b); }
        return b;
    }

    /** out[t, r] = Σ_k x[t, k]·W[r, k] (+ bias[r]); x [n, W.cols], out [n, W.rows]. */
    public static void multiply(WeightTensor w, float[] x, int n, float[] out, float[] bias) {
        int rows = w.rows, k = w.cols;
        int tiles = (n + MR - 1) / MR;
        // every thread's tiles read the same packed activations: packed once (in parallel, it is a serial
        // fraction otherwise), before any panel work starts
        float[] pa = buffer(PACK_A, tiles * MR * k);
        Parallel.forRange(tiles, 8, (t0, t1) -> {
            packActivations(x, n, k, pa, t0, t1);
            for (int t = t0 * MR; t < Math.min(n, t1 * MR); t++) {
                if (bias == null) java.util.Arrays.fill(out, t * rows, (t + 1) * rows, 0f);
                else System.arraycopy(bias, 0, out, t * rows, rows);
            }
        });
        int panels = (rows + NR - 1) / NR;
        // token chunks: each pass over a thread's weight panels streams the packed activations of one chunk, so
        // a chunk must stay cache-sized; one InternViT tile (1025 tokens, ≤ 17 MB) is one chunk
        int chunks = (int) Math.max(1, ((long) tiles * MR * k * 4 + A_CHUNK_BYTES - 1) / A_CHUNK_BYTES);
        int chunkTiles = (tiles + chunks - 1) / chunks;
        Parallel.forRange(panels, 1, (p0, p1) -> {
            float[] pb = buffer(PACK_B, NC_PANELS * NR * KC);
            float[] tmp = buffer(ROWS, NR * KC);
            for (int c0 = 0; c0 < tiles; c0 += chunkTiles) {
            int cEnd = Math.min(tiles, c0 + chunkTiles);
            for (int pc = p0; pc < p1; pc += NC_PANELS) {
                int pe = Math.min(p1, pc + NC_PANELS);
                for (int k0 = 0; k0 < k; k0 += KC) {
                    int kl = Math.min(KC, k - k0);
                    for (int p = pc; p < pe; p++) packWeights(w, p * NR, k0, kl, tmp, pb, (p - pc) * NR * kl);
                    for (int m0 = c0; m0 < cEnd; m0 += MC_TILES) {
                        int me = Math.min(cEnd, m0 + MC_TILES);
                        for (int p = pc; p < pe; p++) {
                            int r0 = p * NR, nr = Math.min(NR, rows - r0);
                            for (int tb = m0; tb < me; tb++) {
                                int mr = Math.min(MR, n - tb * MR);
                                kernel(pa, (tb * k + k0) * MR, pb, (p - pc) * NR * kl, kl, out, tb * MR * rows + r0, rows, mr, nr);
                            }
                        }
                    }
                }
            }
            }
        });
    }

    /** pa[(tile·K + k)·MR + i] = x[(tile·MR + i)·K + k] for tiles [tile0, tile1), zero for tokens ≥ n. */
    static void packActivations(float[] x, int n, int k, float[] pa, int tile0, int tile1) {
        for (int tb = tile0; tb < tile1; tb++) {
            int base = tb * k * MR;
            for (int i = 0; i < MR; i++) {
                int t = tb * MR + i;
                if (t < n) {
                    int xo = t * k;
                    for (int j = 0; j < k; j++) pa[base + j * MR + i] = x[xo + j];
                } else {
                    for (int j = 0; j < k; j++) pa[base + j * MR + i] = 0f;
                }
            }
        }
    }

    /** pb[off + k·16 + j] (float index) = W[r0 + j, k0 + k] as f32 for k < kl (rows past the end are zero). */
    static void packWeights(WeightTensor w, int r0, int k0, int kl, float[] tmp, float[] pb, int off) {
        int nr = Math.min(NR, w.rows - r0);
        for (int j = 0; j < nr; j++) w.rowSliceToFloat(r0 + j, k0, kl, tmp, j * kl);
        java.util.Arrays.fill(tmp, nr * kl, NR * kl, 0f); // rows past the end transpose to zero lanes
        if (Simd.VECTOR) VectorKernels.packPanel(tmp, kl, pb, off);
        else ScalarKernels.packPanel(tmp, kl, pb, off);
    }

    /**
     * c[co + i·ldc + j] += Σ_k a[ao + MR·k + i]·b[bo + NR·k + j] for i < mr, j < nr: the MR×NR micro-kernel on
     * packed panels (a: [k][MR], b: [k][NR]); full tiles update c with vector loads/stores. B lives on the heap:
     * an aligned off-heap panel kept part of its bounds checks inside the loop (fromMemorySegment with a long
     * index) and ran 87–88 against 93–100 GFLOP/s in isolation (65–77 vs 80–92 at the attention's K = 64).
     */
    public static void kernel(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc, int mr, int nr) {
        // the hot loop in a method without edge branches: C2 compiles a method once, from the profile of its first
        // hot callers. With the edge handling inline, a warm-up of small GEMMs (mostly partial tiles) left a kernel
        // that ran the next InternViT tiles at 11 s instead of 6 s; edge tiles now go through a scratch tile.
        if (mr == MR && nr == NR) fullTile(a, ao, b, bo, kl, c, co, ldc);
        else edgeTile(a, ao, b, bo, kl, c, co, ldc, mr, nr);
    }

    private static void fullTile(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc) {
        if (Simd.VECTOR) VectorKernels.gemmFullTile(a, ao, b, bo, kl, c, co, ldc);
        else ScalarKernels.gemmFullTile(a, ao, b, bo, kl, c, co, ldc);
    }

    /**
     * The last token tile (mr &lt; MR) or weight panel (nr &lt; NR): the full tile into a scratch C, then its mr × nr
     * corner added to c. Packed operands are zero past the edge (packActivations / packWeights and the attention's
     * panels pad with zeros), so the extra lanes compute zeros that are dropped here.
     */
    private static void edgeTile(float[] a, int ao, float[] b, int bo, int kl, float[] c, int co, int ldc, int mr, int nr) {
        float[] t = new float[MR * NR];
        fullTile(a, ao, b, bo, kl, t, 0, NR);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) c[co + i * ldc + j] += t[i * NR + j];
    }

}
