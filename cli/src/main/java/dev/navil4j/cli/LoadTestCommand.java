package dev.navil4j.cli;

import dev.navil4j.server.LoadGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "loadtest", mixinStandardHelpOptions = true,
        description = "Bounded load test of a navil4j server on this machine: N concurrent streaming clients per level; "
                + "reports requests/s, p50/p99 time to first token, 429s and failures.")
final class LoadTestCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", description = "server base URL, loopback only (default: ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--clients", defaultValue = "1,4,16,64", split = ",", description = "concurrency levels (default: ${DEFAULT-VALUE})")
    List<Integer> clients;

    @Option(names = "--requests", defaultValue = "4", description = "requests per client per level (default: ${DEFAULT-VALUE})")
    int perClient;

    @Option(names = "--max-tokens", defaultValue = "16", description = "max_tokens per request (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--prompt", defaultValue = "Hello, who are you?", description = "user message")
    String prompt;

    @Option(names = "--time-limit", defaultValue = "120", description = "seconds per level at most (default: ${DEFAULT-VALUE})")
    int seconds;

    @Override
    public Integer call() throws Exception {
        LoadGenerator g = new LoadGenerator(url);
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":" + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(prompt)
                + "}],\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"stream\":true}";
        // one untimed request first: the server's first call runs cold kernels (JIT), which is not load
        g.run(1, 1, body, Duration.ofSeconds(seconds));
        int failed = 0;
        for (int n : clients) {
            if (n < 1 || n > 1024) throw new IllegalArgumentException("--clients levels must be in 1..1024, got " + n);
            LoadGenerator.Report r = g.run(n, perClient, body, Duration.ofSeconds(seconds));
            System.out.println(r.line());
            failed += r.failed();
        }
        return failed == 0 ? 0 : 1;
    }
}
