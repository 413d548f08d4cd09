package dev.navil4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/** The {@code navil4j} command line. Subcommands live beside this class, one per file. */
@Command(name = "navil4j", mixinStandardHelpOptions = true, version = "navil4j 0.1.0",
        description = "Runs NaViL, InternVL3 and VoRA multimodal LLMs from their Hugging Face checkpoints.",
        subcommands = {ChatCommand.class, ServeCommand.class, VerifyCommand.class, BenchCommand.class,
                QuantizeCommand.class, LoadTestCommand.class, TrainCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI; bad input gives one clear line on stderr and a non-zero exit, never a stack trace. */
    public static int run(String... args) {
        // a POSIX/C locale makes Java write '?' for every non-ASCII character; chat answers need UTF-8
        Charset cs = Charset.forName(System.getProperty("stdout.encoding", "UTF-8"), StandardCharsets.UTF_8);
        if (cs.equals(StandardCharsets.US_ASCII)) cs = StandardCharsets.UTF_8;
        return run(System.in, new PrintWriter(new OutputStreamWriter(System.out, cs), true),
                new PrintWriter(new OutputStreamWriter(System.err, cs), true), args);
    }

    /** Runs the CLI with these streams (tests run it in-process); stdin feeds the interactive chat. */
    public static int run(InputStream in, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main(), new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ChatCommand.class ? cls.cast(new ChatCommand(in)) : CommandLine.defaultFactory().create(cls);
            }
        });
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(new UsageErrors());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("navil4j: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("navil4j.debug")) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
