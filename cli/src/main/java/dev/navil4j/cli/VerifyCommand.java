package dev.navil4j.cli;

import dev.navil4j.verify.Verify;
import picocli.CommandLine.Command;
import dev.navil4j.models.LoadOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Runs every case of fixture directories (cases.json + expected.safetensors) against the reference outputs.",
                "With --weights q8|q4 or --kv-cache bf16 the models load that way and the errors show what it costs against "
                        + "the full-precision reference (forward cases then FAIL at their tight atol; generate cases PASS when the "
                        + "greedy tokens are unchanged)."})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "DIR", description = "fixture directories")
    List<Path> dirs;

    @Option(names = "--kind", description = "only cases of these kinds (comma separated)", split = ",")
    List<String> kinds;

    @Option(names = "--case", description = "only cases whose name matches this regex")
    String casePattern;

    @Mixin
    WeightOptions weightOptions = new WeightOptions();

    @Override
    public Integer call() {
        Pattern p = casePattern == null ? null : Pattern.compile(casePattern);
        Verify.Totals t = Verify.run(dirs, c -> (kinds == null || kinds.contains(c.path("kind").asText()))
                && (p == null || p.matcher(c.path("name").asText()).find()), weightOptions.apply(LoadOptions.defaults()), System.out);
        return t.failed() == 0 ? 0 : 1;
    }
}
