package dev.navil4j.cli;

import dev.navil4j.hub.ModelSource;
import dev.navil4j.tensor.Parallel;
import dev.navil4j.train.TrainData;
import dev.navil4j.train.Trainer;
import dev.navil4j.train.VoRAInit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Gives a Qwen2 LLM vision the VoRA way: LoRA on the LLM, an AIMv2 patch embedding, block-wise distillation "
                + "from a frozen AIMv2 teacher, bi-directional attention inside the image; then merges the LoRA into an inference "
                + "checkpoint that chat and serve run.",
                "Start from --base (a Qwen2 checkpoint, fresh LoRA/embedding/heads), --init (a pre-training checkpoint) or "
                        + "--resume (an OUT/checkpoint-N directory: continues exactly as an uninterrupted run)."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--base", paramLabel = "DIR|ID", description = "base Qwen2 LLM (directory or hub id) to add vision to")
    String base;

    @Option(names = "--init", paramLabel = "DIR", description = "start from this unmerged pre-training checkpoint instead")
    Path init;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue from OUT/checkpoint-N (same data, batch, grad-accum, seed)")
    Path resume;

    @Option(names = "--teacher", paramLabel = "DIR", description = "AIMv2-layout teacher ViT (config.json + safetensors); default: the checkpoint's aux_vision")
    Path teacher;

    @Option(names = "--data", required = true, paramLabel = "FILE|DIR",
            description = "JSONL of {\"image\", \"conversations\"} (the reference's format), or a folder of images with same-named .txt captions")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output: loss.csv, loss.png, checkpoint-N/, merged/")
    Path out;

    @Option(names = "--lora-rank", defaultValue = "64", paramLabel = "R", description = "LoRA rank with --base (default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--lora-layers", defaultValue = "all", paramLabel = "N|all", description = "LoRA on the first N decoder layers, or all (default ${DEFAULT-VALUE})")
    String loraLayers;

    @Option(names = "--image-size", paramLabel = "PX", description = "image side with --base (default: the teacher's image_size)")
    Integer imageSize;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "optimizer steps")
    int steps;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B", description = "samples per micro-batch (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "K", description = "micro-batches per optimizer step (default ${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--lr", defaultValue = "2e-4", paramLabel = "LR", description = "peak learning rate (default ${DEFAULT-VALUE}, the pre-training yaml's)")
    double lr;

    @Option(names = "--schedule", defaultValue = "constant", paramLabel = "S",
            description = "constant, constant_with_warmup (the pre-training recipe) or cosine (fine-tuning); default ${DEFAULT-VALUE}")
    String schedule;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "N", description = "warm-up steps (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--max-grad-norm", defaultValue = "0", paramLabel = "X",
            description = "clip the global gradient norm (0 = off, as the recipe's DeepSpeed ZeRO-2 config; HF Trainer alone uses 1.0)")
    double maxGradNorm;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "data order and initialisation seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--save-every", defaultValue = "0", paramLabel = "N", description = "also checkpoint every N steps (default: only at the end)")
    int saveEvery;

    @Option(names = "--log-every", defaultValue = "1", paramLabel = "N", description = "progress line every N steps (default ${DEFAULT-VALUE})")
    int logEvery;

    @Option(names = "--no-merge", description = "skip writing OUT/merged")
    boolean noMerge;

    @Option(names = "--threads", paramLabel = "N", description = "compute threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        int sources = (base != null ? 1 : 0) + (init != null ? 1 : 0) + (resume != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("give exactly one of --base, --init or --resume");
        if (threads != null) Parallel.setThreads(threads);
        List<TrainData.Sample> samples = TrainData.read(data);
        Trainer.Options o = new Trainer.Options(steps, batch, gradAccum, lr, schedule, warmup, maxGradNorm, seed, saveEvery, logEvery, !noMerge);
        Path modelDir;
        if (base != null) {
            if (teacher == null) throw new IllegalArgumentException("--base needs --teacher");
            Path llm = ModelSource.resolve(base, System.err);
            int size = imageSize != null ? imageSize : dev.navil4j.weights.Json.Obj.of(teacher.resolve("config.json")).integer("image_size", 448);
            modelDir = VoRAInit.create(llm, teacher, loraLayers, rank, size, seed, out.resolve("init"));
            System.out.println("initial checkpoint: " + modelDir);
        } else {
            modelDir = init != null ? init : resume;
            if (!Files.isDirectory(modelDir)) throw new IllegalArgumentException(modelDir + ": not a directory");
        }
        System.out.println(samples.size() + " samples, " + steps + " steps of " + batch + " x " + gradAccum);
        Trainer t = new Trainer(modelDir, teacher, samples, o, out, resume != null, System.out);
        t.runAll();
        return 0;
    }
}
