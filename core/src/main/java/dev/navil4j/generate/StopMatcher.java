package dev.navil4j.generate;

import java.util.List;

/**
 * Applies stop strings (OpenAI {@code stop}, LangChain4j stop sequences) to streamed text: text is released only once it can no longer
 * be the start of a stop sequence, so a stop sequence split across tokens is never sent to the client,
 * and the output ends right before the first stop sequence.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) { this.stops = stops == null ? List.of() : List.copyOf(stops); }

    public boolean stopped() { return stopped; }

    /** Adds text; returns what may be released now (empty while a stop sequence might be forming). */
    public String push(String text) {
        if (stopped) return "";
        if (stops.isEmpty()) return text;
        held.append(text);
        int cut = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0) {
            stopped = true;
            String out = held.substring(0, cut);
            held.setLength(0);
            return out;
        }
        // keep the longest suffix that is a proper prefix of some stop sequence
        int keep = 0;
        for (String s : stops)
            for (int k = Math.min(s.length() - 1, held.length()); k > keep; k--)
                if (held.substring(held.length() - k).equals(s.substring(0, k))) { keep = k; break; }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** End of generation: whatever is held was not a stop sequence after all. */
    public String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }
}
