package dev.navil4j.train;

/**
 * One Qwen2DecoderLayer (transformers modeling_qwen2.py), forward and backward:
 * <pre>
 *   a = input_layernorm(x);  q, k, v = q/k/v_proj(a);  rope(q, k);  o = attn(q, k, v, mask)
 *   x1 = x + o_proj(o);  b = post_attention_layernorm(x1);  x2 = x1 + down_proj(silu(gate_proj(b)) · up_proj(b))
 * </pre>
 * Activation buffers of the last forward (rows n = B·L): a, b [n, D] with rstd1/rstd2 [n]; q [n, H·hd]
 * and k [n, KV·hd] after rope; v [n, KV·hd]; attention softmax stats [B, H, L, 2] (the probabilities are recomputed); o [n, H·hd]; gate, up, h [n, I].
 */
public final class TrainDecoderLayer {
    final Param inputNorm, postNorm;
    final TrainLinear qProj, kProj, vProj, oProj, gateProj, upProj, downProj;
    final int hidden, heads, kvHeads, hd, inter;
    final float eps;

    private float[] x, a, rstd1, q, k, v, attnStats, o, x1, b, rstd2, gate, up, h;
    private int batch, len;
    private int[] pos;
    private float[] cos, sin;
    private TrainAttention.Mask mask;

    TrainDecoderLayer(Param inputNorm, Param postNorm, TrainLinear q, TrainLinear k, TrainLinear v, TrainLinear o,
                      TrainLinear gate, TrainLinear up, TrainLinear down, int heads, int kvHeads, float eps) {
        this.inputNorm = inputNorm;
        this.postNorm = postNorm;
        this.qProj = q; this.kProj = k; this.vProj = v; this.oProj = o;
        this.gateProj = gate; this.upProj = up; this.downProj = down;
        this.hidden = (int) inputNorm.shape[0];
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.hd = q.out / heads;
        this.inter = gate.out;
        this.eps = eps;
    }

    /** x[B·L, D] → the layer output [B·L, D]; pos[B·L] positions, cos/sin [maxPos, hd/2] rope tables. */
    float[] forward(float[] x, int batch, int len, int[] pos, float[] cos, float[] sin, TrainAttention.Mask mask) {
        int n = batch * len;
        this.x = x; this.batch = batch; this.len = len; this.pos = pos; this.cos = cos; this.sin = sin; this.mask = mask;
        a = new float[n * hidden];
        rstd1 = new float[n];
        TrainOps.rmsNorm(a, rstd1, x, inputNorm.w, n, hidden, eps);
        q = qProj.forward(a, n);
        k = kProj.forward(a, n);
        v = vProj.forward(a, n);
        TrainOps.rope(q, n, heads, hd, pos, cos, sin, true);
        TrainOps.rope(k, n, kvHeads, hd, pos, cos, sin, true);
        o = new float[n * heads * hd];
        attnStats = TrainAttention.forward(o, q, k, v, batch, len, heads, kvHeads, hd, mask);
        float[] attnOut = oProj.forward(o, n);
        x1 = new float[n * hidden];
        for (int i = 0; i < x1.length; i++) x1[i] = x[i] + attnOut[i];
        b = new float[n * hidden];
        rstd2 = new float[n];
        TrainOps.rmsNorm(b, rstd2, x1, postNorm.w, n, hidden, eps);
        gate = gateProj.forward(b, n);
        up = upProj.forward(b, n);
        h = new float[n * inter];
        TrainOps.swiglu(h, gate, up, h.length);
        float[] m = downProj.forward(h, n);
        float[] x2 = new float[n * hidden];
        for (int i = 0; i < x2.length; i++) x2[i] = x1[i] + m[i];
        return x2;
    }

    /** d out [B·L, D] → d x [B·L, D]; accumulates the trainable tensors' gradients. */
    float[] backward(float[] dout) {
        int n = batch * len;
        // MLP branch; the residual passes dout through to x1
        float[] dh = new float[n * inter];
        downProj.backward(dh, dout);
        float[] dgate = new float[n * inter], dup = new float[n * inter];
        TrainOps.swigluBackward(dgate, dup, dh, gate, up, dh.length);
        float[] db = new float[n * hidden];
        gateProj.backward(db, dgate);
        upProj.backward(db, dup);
        float[] dx1 = dout.clone();
        TrainOps.rmsNormBackward(dx1, postNorm.g, db, x1, postNorm.w, rstd2, n, hidden);
        // attention branch; the residual passes dx1 through to x
        float[] dO = new float[n * heads * hd];
        oProj.backward(dO, dx1);
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        TrainAttention.backward(dq, dk, dv, dO, q, k, v, attnStats, batch, len, heads, kvHeads, hd, mask);
        TrainOps.rope(dq, n, heads, hd, pos, cos, sin, false);
        TrainOps.rope(dk, n, kvHeads, hd, pos, cos, sin, false);
        float[] da = new float[n * hidden];
        qProj.backward(da, dq);
        kProj.backward(da, dk);
        vProj.backward(da, dv);
        float[] dx = dx1.clone();
        TrainOps.rmsNormBackward(dx, inputNorm.g, da, x, inputNorm.w, rstd1, n, hidden);
        return dx;
    }

    /** Frees the activation buffers (after the backward, or after an eval forward). */
    void release() { x = a = rstd1 = q = k = v = attnStats = o = x1 = b = rstd2 = gate = up = h = null; }

    TrainLinear[] linears() { return new TrainLinear[]{qProj, kProj, vProj, oProj, gateProj, upProj, downProj}; }
}
