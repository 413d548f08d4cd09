package dev.navil4j.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelFamily;
import dev.navil4j.models.ModelRegistry;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Runs fixture directories (format: fixtures/README.md) and prints
 * {@code PASS|FAIL|SKIP <fixture>/<case> <kind> max_abs_err=<x> atol=<y>} per case, then the totals.
 * Input-level kinds have their own runners; model-level kinds go to the family that accepts the
 * case's checkpoint.
 */
public final class Verify {
    private static final Map<String, CaseRunner> RUNNERS = Map.of(
            "tokenize", TokenizerCases::tokenize,
            "decode", TokenizerCases::decode);

    public record Totals(int passed, int failed, int skipped) {
        public Totals plus(Totals o) { return new Totals(passed + o.passed, failed + o.failed, skipped + o.skipped); }
    }

    private Verify() {}

    public static Totals run(List<Path> dirs, Predicate<JsonNode> filter, PrintStream out) {
        return run(dirs, filter, LoadOptions.defaults(), out);
    }

    /** As {@link #run(List, Predicate, PrintStream)} with models loaded under {@code options} (e.g. {@code --weights q8}). */
    public static Totals run(List<Path> dirs, Predicate<JsonNode> filter, LoadOptions options, PrintStream out) {
        Totals total = new Totals(0, 0, 0);
        for (Path d : dirs) total = total.plus(runFixture(d, filter, options, out));
        out.println(total.passed + " passed, " + total.failed + " failed, " + total.skipped + " skipped");
        return total;
    }

    public static Totals runFixture(Path dir, Predicate<JsonNode> filter, PrintStream out) {
        return runFixture(dir, filter, LoadOptions.defaults(), out);
    }

    public static Totals runFixture(Path dir, Predicate<JsonNode> filter, LoadOptions options, PrintStream out) {
        int p = 0, f = 0, s = 0;
        try (Fixture fx = new Fixture(dir, options)) {
            for (JsonNode c : fx.cases()) {
                if (!filter.test(c)) continue;
                CaseResult r = runCase(fx, c);
                out.println(format(fx, c, r));
                out.flush();
                switch (r.status()) {
                    case PASS -> p++;
                    case FAIL -> f++;
                    case SKIP -> s++;
                }
            }
        }
        return new Totals(p, f, s);
    }

    public static CaseResult runCase(Fixture fx, JsonNode c) {
        String kind = c.path("kind").asText();
        try {
            CaseRunner r = RUNNERS.get(kind);
            if (r != null) return r.run(fx, c);
            for (ModelFamily f : ModelRegistry.families())
                if (f instanceof FixtureCases cases && cases.handlesFixture(fx.family())) return cases.verify(fx, c);
            // case runners outside the model families (e.g. the VoRA trainer's), registered as services
            for (FixtureCases cases : java.util.ServiceLoader.load(FixtureCases.class))
                if (cases.handlesFixture(fx.family())) return cases.verify(fx, c);
            ModelFamily family = ModelRegistry.detect(fx.modelDir(c));
            if (family instanceof FixtureCases cases) return cases.verify(fx, c);
            return CaseResult.skip("the " + family.name() + " family runs no fixture cases");
        } catch (ModelRegistry.UnsupportedModelException e) {
            return CaseResult.skip(e.getMessage());
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            String msg = e.getMessage() == null ? e.toString() : e.getClass().getSimpleName() + ": " + e.getMessage();
            if (Boolean.getBoolean("navil4j.debug")) e.printStackTrace();
            return CaseResult.fail(Double.NaN, c.path("atol").asDouble(0), msg);
        }
    }

    static String format(Fixture fx, JsonNode c, CaseResult r) {
        String line = r.status() + " " + fx.name + "/" + c.path("name").asText() + " " + c.path("kind").asText();
        if (r.status() == CaseResult.Status.SKIP) return line + " (" + r.message() + ")";
        line += " max_abs_err=" + num(r.maxAbsErr()) + " atol=" + num(r.atol());
        if (r.status() == CaseResult.Status.FAIL && !r.message().isEmpty()) line += " — " + r.message();
        return line;
    }

    private static String num(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return "inf";
        if (x == 0) return "0";
        return String.format(Locale.ROOT, "%.3g", x);
    }
}
