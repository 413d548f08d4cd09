package dev.navil4j.cli;

import dev.navil4j.ProgressEvent;
import dev.navil4j.ProgressListener;
import dev.navil4j.tensor.DType;
import dev.navil4j.tensor.QuantPolicy;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.SafeTensors;
import dev.navil4j.weights.SafeTensorsWriter;
import dev.navil4j.weights.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Writes a copy of a checkpoint whose LLM linear layers are block-quantized (q8 or q4); it loads "
                + "without re-quantizing. Everything else (embeddings, norms, vision encoder, projector, config and "
                + "tokenizer files) is copied unchanged.",
                "Example: ./navil4j quantize models/InternVL3-1B models/InternVL3-1B-q8 --weights q8"})
final class QuantizeCommand implements Callable<Integer> {
    /**
     * LLM decoder-layer matrices of every family: Qwen2/Qwen3 ({@code model.layers.N.self_attn.q_proj}),
     * InternLM2 ({@code language_model.model.layers.N.attention.wqkv}), NaViL's experts; LoRA factors excluded.
     */
    static final String DEFAULT_INCLUDE = "(^|\\.)model\\.layers\\.\\d+\\.(?!.*lora).*\\.weight$";

    @Parameters(index = "0", paramLabel = "MODEL", description = "checkpoint directory (or .safetensors file), or a Hugging Face "
            + "repo id (org/name[@revision]) resolved through the HF cache as serve does")
    String in;

    @Parameters(index = "1", paramLabel = "OUT", description = "output directory (created; must not exist or be empty unless --force)")
    Path out;

    @Option(names = "--force", description = "write into OUT even when it already holds files (they are overwritten)")
    boolean force;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--weights", required = true, description = "q8 or q4")
    String weights;

    @Option(names = "--quiet", description = "no progress line (it is drawn only on an interactive terminal anyway)")
    boolean quiet;

    @Option(names = "--include", description = "regex of tensor names to quantize (default: LLM decoder-layer matrices)")
    String include = DEFAULT_INCLUDE;

    record Summary(int quantized, int copied, long bytesBefore, long bytesAfter) {}

    @Override
    public Integer call() throws IOException {
        String refused = outputProblem(out, force);
        if (refused != null) throw UsageErrors.of(spec, refused);
        ProgressPrinter line = ProgressPrinter.forTerminal(quiet);
        Path checkpoint = dev.navil4j.hub.ModelSource.resolve(in, line.enabled() || quiet ? null : System.err,
                line.enabled() ? line : null);
        Summary s = quantize(checkpoint, out, weights, Pattern.compile(include), line);
        System.out.printf(Locale.ROOT, "quantized %d tensors to %s, copied %d; tensor data %.1f MiB -> %.1f MiB; wrote %s%n",
                s.quantized(), weights, s.copied(), s.bytesBefore() / 1048576.0, s.bytesAfter() / 1048576.0, out.resolve("model.safetensors"));
        return 0;
    }

    /**
     * Null when {@code out} may be written: it does not exist, is an empty directory, or {@code force} is set and it
     * is a directory; otherwise why not (a quantized checkpoint is minutes of work and gigabytes, and OUT may be the
     * wrong directory, so it is never overwritten silently).
     */
    static String outputProblem(Path out, boolean force) throws IOException {
        if (!Files.exists(out)) return null;
        if (!Files.isDirectory(out)) return "OUT " + out + " is a file, not a directory";
        if (force) return null;
        try (var entries = Files.list(out)) {
            if (entries.findAny().isEmpty()) return null;
        }
        return "OUT " + out + " already exists and is not empty; pass --force to overwrite the checkpoint in it";
    }

    /**
     * Quantizes every rank-2 float tensor whose name matches {@code include} (columns divisible by 32), reporting
     * {@link ProgressEvent.Stage#QUANTIZE} per tensor (done = tensors converted or copied, detail = the tensor's name).
     */
    static Summary quantize(Path in, Path out, String weights, Pattern include, ProgressListener progress) throws IOException {
        progress = ProgressListener.orNone(progress);
        DType target = switch (weights.toLowerCase(Locale.ROOT)) {
            case "q8", "q8_0" -> DType.Q8;
            case "q4", "q4_0" -> DType.Q4;
            default -> throw new IllegalArgumentException("--weights must be q8 or q4, got '" + weights + "'");
        };
        if (Files.exists(out) && Files.isSameFile(in, out)) throw new IllegalArgumentException("output must differ from the input checkpoint");
        Files.createDirectories(out);
        int q = 0, c = 0;
        long before = 0, after = 0;
        try (SafeTensors st = SafeTensors.open(in)) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            st.metadata().forEach((k, v) -> { if (!k.equals(SafeTensorsWriter.QUANTIZED_KEY)) w.metadata(k, v); });
            w.metadata("navil4j.weights", target.safetensorsName);
            java.util.List<String> names = java.util.List.copyOf(st.names());
            int done = 0;
            for (String name : names) {
                progress.report(ProgressEvent.Stage.QUANTIZE, done, names.size(), ProgressEvent.Unit.TENSORS, name);
                TensorInfo t = st.get(name);
                before += t.data().byteSize();
                boolean floatType = t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16;
                if (floatType && t.rank() == 2 && t.dim(1) % 32 == 0 && include.matcher(name).find()) {
                    WeightTensor qt = QuantPolicy.apply(t.matrix(), target.safetensorsName);
                    w.add(qt);
                    after += qt.byteSize();
                    q++;
                } else {
                    w.add(t);
                    after += t.data().byteSize();
                    c++;
                }
                done++;
            }
            if (!names.isEmpty())
                progress.report(ProgressEvent.Stage.QUANTIZE, done, names.size(), ProgressEvent.Unit.TENSORS, "");
            w.write(out.resolve("model.safetensors"));
        }
        // config, tokenizer, chat template...: everything but the weights
        if (Files.isDirectory(in)) {
            try (var files = Files.list(in)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String n = f.getFileName().toString();
                    if (Files.isRegularFile(f) && !n.endsWith(".safetensors") && !n.equals("model.safetensors.index.json"))
                        Files.copy(f, out.resolve(n), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return new Summary(q, c, before, after);
    }
}
