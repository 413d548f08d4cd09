package dev.navil4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code navil4j} command line. Subcommands live beside this class, one per file. */
@Command(name = "navil4j", mixinStandardHelpOptions = true, version = "navil4j 0.1.0",
        description = "Runs NaViL, InternVL3 and VoRA multimodal LLMs from their Hugging Face checkpoints.",
        subcommands = {VerifyCommand.class, BenchCommand.class, QuantizeCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI; bad input gives one clear line on stderr and a non-zero exit, never a stack trace. */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("navil4j: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("navil4j.debug")) ex.printStackTrace(cmd.getErr());
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
