package dev.navil4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Reports a usage error (an unknown option, a missing or malformed value, a value out of range) as one line,
 * {@code navil4j chat: <problem> (see navil4j chat --help)}, with exit code 2. picocli's default prints the
 * whole usage text after the problem (41 lines for {@code chat}), which pushes the one line that matters off
 * the screen.
 */
final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    /** Exit code of a usage error (as picocli's default and most Unix tools use). */
    static final int EXIT_USAGE = 2;

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        cmd.getErr().println(line(cmd.getCommandSpec().qualifiedName(), ex));
        cmd.getErr().flush();
        return EXIT_USAGE;
    }

    /** The one line for this error of the command {@code name} (e.g. "navil4j chat"). */
    static String line(String name, ParameterException ex) {
        String problem = ex.getMessage() == null ? ex.toString() : ex.getMessage();
        if (ex instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty())
            problem = stripDot(problem) + "; did you mean " + String.join(" or ", u.getSuggestions().stream().limit(3).toList()) + "?";
        return name + ": " + stripDot(problem.replaceAll("\\s*\\R\\s*", " ").strip()) + " (see " + name + " --help)";
    }

    private static String stripDot(String s) { return s.endsWith(".") ? s.substring(0, s.length() - 1) : s; }

    /** A usage error of {@code spec}'s command, reported like a parse error (thrown by checks in {@code call()}). */
    static ParameterException of(CommandLine.Model.CommandSpec spec, String problem) {
        return new ParameterException(spec.commandLine(), problem);
    }
}
