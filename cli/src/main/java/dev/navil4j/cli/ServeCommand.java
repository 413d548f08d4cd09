package dev.navil4j.cli;

import dev.navil4j.models.LoadOptions;
import dev.navil4j.nn.KernelWarmup;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;
import dev.navil4j.hub.ModelSource;
import dev.navil4j.server.OpenAiServer;
import dev.navil4j.server.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serves a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /health).")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|HUB_ID",
            description = "model directory, or a Hugging Face repo id (org/name[@revision]) resolved through the HF cache")
    String model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--served-model-name", description = "model id reported to clients (default: the --model value)")
    String servedName;

    @Option(names = "--max-batch", defaultValue = "8", description = "sequences decoded together (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-queue", defaultValue = "32", description = "requests waiting for a slot before 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--timeout", defaultValue = "600", description = "per-request time limit in seconds (default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--read-timeout", defaultValue = "60", description = "seconds a request's headers, and separately its body, may take to arrive (slow clients are cut off; default: ${DEFAULT-VALUE})")
    int readTimeoutSeconds;

    @Option(names = "--max-tokens", defaultValue = "512", description = "completion length when a request sets none (default: ${DEFAULT-VALUE})")
    int defaultMaxTokens;

    @Option(names = "--max-request-mb", defaultValue = "32", description = "largest request body in MiB (default: ${DEFAULT-VALUE})")
    int maxRequestMb;

    @Option(names = "--max-image-mb", defaultValue = "16", description = "largest encoded image in MiB (default: ${DEFAULT-VALUE})")
    int maxImageMb;

    @Option(names = "--max-image-pixels", defaultValue = "40000000", description = "largest image width*height (default: ${DEFAULT-VALUE})")
    long maxImagePixels;

    @Option(names = "--max-images", defaultValue = "8", description = "most images per request (default: ${DEFAULT-VALUE})")
    int maxImages;

    @Option(names = "--max-tiles", defaultValue = "0", description = "cap on tiles per image (0: the model's default)")
    int maxTiles;

    @Option(names = "--allow-remote-images", description = "fetch http(s) image URLs (off: only data: URIs)")
    boolean allowRemoteImages;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "require 'Authorization: Bearer KEY' on /v1 (visible in the process list: prefer --api-key-file "
                    + "or the NAVIL4J_API_KEY environment variable)")
    String apiKey;

    @Option(names = "--api-key-file", paramLabel = "FILE", description = "read the API key from FILE (first line)")
    Path apiKeyFile;

    @Option(names = "--allowed-hosts", split = ",", paramLabel = "NAME",
            description = "names the Host header may carry (default: localhost, 127.0.0.1, ::1 when bound to loopback, "
                    + "any otherwise; '*' = any)")
    java.util.List<String> allowedHosts;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "enable CORS for this web origin (scheme://host[:port], repeatable, '*' = any; default: CORS off)")
    java.util.List<String> corsOrigins = new java.util.ArrayList<>();

    @Option(names = "--model-alias", paramLabel = "NAME", description = "another name requests may use for the model (repeatable)")
    java.util.List<String> modelAliases = new java.util.ArrayList<>();

    @Option(names = "--allow-special-tokens",
            description = "tokenize special-token text in messages (e.g. <|im_start|>) as the control token, as transformers' "
                    + "apply_chat_template does (default: off, such text is encoded as plain text so a message cannot forge a turn)")
    boolean allowSpecialTokens;

    @Option(names = "--warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "JIT-compile the kernels before accepting requests, so the first request is not the slow one "
                    + "(default: on; --no-warmup to skip)")
    boolean warmup = true;

    @Mixin
    WeightOptions weightOptions = new WeightOptions();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // everything that can be checked without the model is, before the model loads (a minute for a large one)
        if (port < 0 || port > 65535) throw UsageErrors.of(spec, "--port must be in 0..65535, got " + port);
        if (maxTiles < 0) throw UsageErrors.of(spec, "--max-tiles must be >= 0 (0 = the model's default), got " + maxTiles);
        atLeastOne("--max-batch", maxBatch);
        if (maxQueue < 0) throw UsageErrors.of(spec, "--max-queue must be >= 0, got " + maxQueue);
        atLeastOne("--timeout", timeoutSeconds);
        atLeastOne("--read-timeout", readTimeoutSeconds);
        atLeastOne("--max-tokens", defaultMaxTokens);
        atLeastOne("--max-request-mb", maxRequestMb);
        atLeastOne("--max-image-mb", maxImageMb);
        if (maxImages < 0) throw UsageErrors.of(spec, "--max-images must be >= 0, got " + maxImages);
        if (maxImagePixels < 1) throw UsageErrors.of(spec, "--max-image-pixels must be >= 1, got " + maxImagePixels);
        apiKey();   // a bad key file fails before the model loads
        String busy = portProblem(host, port);
        if (busy != null) throw new IllegalStateException(busy);
        // Javalin/Jetty log through slf4j-simple: keep them to warnings
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Path dir = weightOptions.resolveModel(model);
        dev.navil4j.tensor.Simd.logOnce();
        System.err.println("navil4j: loading " + dir + " …");
        long t0 = System.nanoTime();
        VisionLanguageModel m = ModelRegistry.load(dir, weightOptions.apply(LoadOptions.defaults()));
        System.err.printf(java.util.Locale.ROOT, "navil4j: loaded in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (warmup) {
            // the time depends on the CPU, its load and the weight formats (14-31 s seen on a busy 2-core machine), so
            // the line says what runs rather than promising a duration
            System.err.println("navil4j: JIT warm-up: compiling the matrix, attention and norm kernels on small synthetic inputs"
                    + " before accepting requests (--no-warmup skips it) …");
            double s = KernelWarmup.run(weightOptions.weights, KernelWarmup.DEFAULT_ROUNDS);
            System.err.printf(java.util.Locale.ROOT, "navil4j: kernels compiled in %.1f s%n", s);
        }
        ServerOptions.Access access = new ServerOptions.Access(apiKey(), allowedHosts, corsOrigins, modelAliases, allowSpecialTokens);
        ServerOptions opts = ServerOptions.defaults(servedName != null ? servedName : model)
                .withLimits((long) maxRequestMb << 20, (long) maxImageMb << 20, maxImagePixels, maxImages)
                .withScheduling(maxBatch, maxQueue, Duration.ofSeconds(timeoutSeconds))
                .withDefaultMaxTokens(defaultMaxTokens)
                .withRemoteImages(allowRemoteImages)
                .withMaxTiles(maxTiles)
                .withAccess(access)
                .withReadTimeout(Duration.ofSeconds(readTimeoutSeconds));
        OpenAiServer server = OpenAiServer.start(m, opts, host, port);
        System.err.println("navil4j: serving " + opts.modelId() + " (" + m.family() + ") on http://" + host + ":" + server.port()
                + "/v1  (batch " + maxBatch + ", queue " + maxQueue + ")");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("navil4j: shutting down (finishing in-flight requests)");
            server.close();
            m.close();
            stopped.countDown();
        }, "navil4j-shutdown"));
        stopped.await();
        return 0;
    }

    private void atLeastOne(String option, int value) {
        if (value < 1) throw UsageErrors.of(spec, option + " must be >= 1, got " + value);
    }

    /**
     * Null when {@code host:port} can be bound now, else why not, in one sentence: the check the server's own bind
     * would make, done before the model loads and warms up (which took minutes only to then fail on a busy port). A
     * port taken between this check and the real bind still fails there, with the server's message.
     */
    static String portProblem(String host, int port) {
        if (port == 0) return null; // any free port: nothing to check
        java.net.InetSocketAddress addr = new java.net.InetSocketAddress(host, port);
        if (addr.isUnresolved()) return "cannot bind to --host " + host + ": unknown host name";
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.setReuseAddress(true); // as Jetty binds: a port in TIME_WAIT after a restart is free
            s.bind(addr);
            return null;
        } catch (java.net.BindException e) {
            String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (m.contains("in use")) return "port " + port + " on " + host + " is already in use (another server running? choose one with --port)";
            if (m.contains("permission") || m.contains("access")) return "no permission to bind port " + port + " on " + host + " (ports below 1024 need privileges; choose one with --port)";
            if (m.contains("assign")) return "cannot bind to --host " + host + ": not an address of this machine";
            return "cannot bind " + host + ":" + port + " (" + e.getMessage() + ")";
        } catch (java.io.IOException | SecurityException e) {
            return "cannot bind " + host + ":" + port + " (" + e.getMessage() + ")";
        }
    }

    /** --api-key, else the first line of --api-key-file, else $NAVIL4J_API_KEY, else none. */
    String apiKey() throws java.io.IOException {
        if (apiKey != null && apiKeyFile != null) throw UsageErrors.of(spec, "give --api-key or --api-key-file, not both");
        String k = apiKey;
        if (k == null && apiKeyFile != null) {
            String text;
            try {
                text = java.nio.file.Files.readString(apiKeyFile).strip();
            } catch (java.nio.file.NoSuchFileException e) {
                throw UsageErrors.of(spec, "--api-key-file " + apiKeyFile + ": no such file");
            }
            k = text.lines().findFirst().orElse("").strip();
            if (k.isEmpty()) throw UsageErrors.of(spec, "the API key file " + apiKeyFile + " is empty");
        }
        if (k == null) k = System.getenv("NAVIL4J_API_KEY");
        return k == null || k.isBlank() ? null : k.strip();
    }
}
