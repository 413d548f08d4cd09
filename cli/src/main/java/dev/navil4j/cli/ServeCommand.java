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

    @Override
    public Integer call() throws Exception {
        apiKey();   // a bad key file fails before the model loads
        // Javalin/Jetty log through slf4j-simple: keep them to warnings
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Path dir = ModelSource.resolve(model, weightOptions.downloadProgress());
        dev.navil4j.tensor.Simd.logOnce();
        System.err.println("navil4j: loading " + dir + " …");
        long t0 = System.nanoTime();
        VisionLanguageModel m = ModelRegistry.load(dir, weightOptions.apply(LoadOptions.defaults()));
        System.err.printf(java.util.Locale.ROOT, "navil4j: loaded in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (warmup) {
            double s = KernelWarmup.run(weightOptions.weights, KernelWarmup.DEFAULT_ROUNDS);
            System.err.printf(java.util.Locale.ROOT, "navil4j: kernels warmed up in %.1f s%n", s);
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

    /** --api-key, else the first line of --api-key-file, else $NAVIL4J_API_KEY, else none. */
    String apiKey() throws java.io.IOException {
        if (apiKey != null && apiKeyFile != null) throw new picocli.CommandLine.ParameterException(
                new picocli.CommandLine(this), "give --api-key or --api-key-file, not both");
        String k = apiKey;
        if (k == null && apiKeyFile != null) {
            String text = java.nio.file.Files.readString(apiKeyFile).strip();
            k = text.lines().findFirst().orElse("").strip();
            if (k.isEmpty()) throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "the API key file " + apiKeyFile + " is empty");
        }
        if (k == null) k = System.getenv("NAVIL4J_API_KEY");
        return k == null || k.isBlank() ? null : k.strip();
    }
}
