package dev.navil4j.verify;

/** The outcome of one fixture case. */
public record CaseResult(Status status, double maxAbsErr, double atol, String message) {
    public enum Status { PASS, FAIL, SKIP }

    public static CaseResult pass(double err, double atol) { return new CaseResult(Status.PASS, err, atol, ""); }

    public static CaseResult fail(double err, double atol, String why) { return new CaseResult(Status.FAIL, err, atol, why); }

    public static CaseResult skip(String why) { return new CaseResult(Status.SKIP, Double.NaN, Double.NaN, why); }

    /** PASS when err ≤ atol and no mismatch message, FAIL otherwise. */
    public static CaseResult of(double err, double atol, String mismatch) {
        if (mismatch != null && !mismatch.isEmpty()) return fail(err, atol, mismatch);
        return err <= atol ? pass(err, atol) : fail(err, atol, "max_abs_err above atol");
    }
}
