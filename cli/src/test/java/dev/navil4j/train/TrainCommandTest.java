package dev.navil4j.train;

import dev.navil4j.cli.Main;
import dev.navil4j.weights.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.navil4j.train.TrainerTest.MODEL;
import static dev.navil4j.train.TrainerTest.TEACHER;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code navil4j train} on the vora-train-tiny checkpoint: it trains, merges, and refuses bad input. */
class TrainCommandTest {
    static List<TrainData.Sample> samples;

    @BeforeAll
    static void data() throws Exception {
        TrainerTest.data();
        samples = TrainerTest.samples;
    }

    @Test
    void theTrainCommandRunsAndRefusesBadInput(@TempDir Path dir) throws Exception {
        Path jsonl = dir.resolve("data.jsonl");
        StringBuilder sb = new StringBuilder();
        for (TrainData.Sample s : samples) {
            var n = Json.MAPPER.createObjectNode().put("image", s.image().toString());
            var conv = n.putArray("conversations");
            for (String[] turn : s.turns()) conv.addObject().put("from", turn[0]).put("value", turn[1]);
            sb.append(n).append('\n');
        }
        Files.writeString(jsonl, sb);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(out, true), new PrintWriter(err, true),
                "train", "--init", MODEL.toString(), "--teacher", TEACHER.toString(), "--data", jsonl.toString(),
                "--out", dir.resolve("out").toString(), "--steps", "2", "--batch", "2", "--threads", "2");
        assertThat(rc).as(err.toString()).isZero();
        assertThat(dir.resolve("out/merged/model.safetensors")).exists();
        assertThat(dir.resolve("out/checkpoint-2/optimizer.safetensors")).exists();
        StringWriter err2 = new StringWriter();
        int bad = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(new StringWriter(), true), new PrintWriter(err2, true),
                "train", "--init", MODEL.toString(), "--data", dir.resolve("nope.jsonl").toString(), "--out", dir.resolve("o2").toString(), "--steps", "1");
        assertThat(bad).isNotZero();
        assertThat(err2.toString()).contains("does not exist");
        StringWriter err3 = new StringWriter();
        int both = Main.run(new ByteArrayInputStream(new byte[0]), new PrintWriter(new StringWriter(), true), new PrintWriter(err3, true),
                "train", "--init", MODEL.toString(), "--base", MODEL.toString(), "--data", jsonl.toString(), "--out", dir.resolve("o3").toString(), "--steps", "1");
        assertThat(both).isNotZero();
        assertThat(err3.toString()).contains("exactly one of --base, --init or --resume");
    }
}
