package dev.navil4j.weights;

/**
 * A position in a checkpoint's tensor-name tree (candle's {@code vb.pp("q_proj")}): model code walks the hub's
 * module names one part at a time — {@code root.pp("model").pp("layers").pp(3).pp("self_attn").pp("q_proj")} — and
 * asks for leaves with their expected shape, so a name is written once, as the hub spells it, and a missing or
 * misshapen tensor is reported with its full name.
 */
public record TensorPath(SafeTensors st, String path) {
    /** The tensors under {@code prefix} ("" = the root; a trailing '.' is ignored, so "language_model." works). */
    public static TensorPath of(SafeTensors st, String prefix) {
        String p = prefix == null ? "" : prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
        return new TensorPath(st, p);
    }

    /** The child module {@code part} (may itself hold dots: "self_attn.q_proj"). */
    public TensorPath pp(String part) { return new TensorPath(st, path.isEmpty() ? part : path + "." + part); }

    /** The child at index {@code i} of a ModuleList ("layers.3"). */
    public TensorPath pp(int i) { return pp(Integer.toString(i)); }

    /** The full name of the leaf tensor {@code leaf} here ("…q_proj.weight"). */
    public String name(String leaf) { return path.isEmpty() ? leaf : path + "." + leaf; }

    /** The leaf, checked to have this shape. */
    public TensorInfo get(String leaf, long... shape) { return st.get(name(leaf), shape); }

    /** The leaf as f32 values, checked to have this shape. */
    public float[] floats(String leaf, long... shape) { return get(leaf, shape).toFloatArray(); }

    public boolean contains(String leaf) { return st.contains(name(leaf)); }

    @Override
    public String toString() { return path; }
}
