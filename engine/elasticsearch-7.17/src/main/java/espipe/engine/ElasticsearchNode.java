package espipe.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * One Elasticsearch 7.17 node in this JVM, for the engine test suite: Maven Central has the
 * server jar and its Netty transport but no runner. Embedding skips Elasticsearch's Bootstrap,
 * so there is no security manager and no bootstrap check (a test node on loopback needs none).
 *
 *   java -Des.set.netty.runtime.available.processors=false -cp CLASSPATH espipe.engine.ElasticsearchNode HOME [HTTP_PORTS]
 *
 * HOME is an empty directory of the caller's (config, data and logs go under it); HTTP_PORTS a
 * port or range (default 9250-9299: the first free one is taken). Prints "HTTP Port: N" once the
 * node listens, and closes the node on SIGTERM.
 */
public final class ElasticsearchNode {
    private ElasticsearchNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ElasticsearchNode HOME [HTTP_PORTS]");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        String httpPorts = args.length > 1 ? args[1] : "9250-9299";
        Path config = Files.createDirectories(home.resolve("config"));
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "espipe-engine")
            .put("node.name", "espipe-engine-es")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPorts)
            .put("transport.port", "9350-9399")
            // One node that elects itself; no disk watermarks failing the suite on a full-ish shared disk.
            .put("discovery.type", "single-node")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .build();
        // Warnings and errors to the console (the caller's log file); without this, log4j's
        // status logger complains and nothing of the node's own reasons is seen.
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureWithoutConfig(settings);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), config, () -> "espipe-engine-es");
        // Node's constructor that takes plugin classes is protected: an anonymous subclass reaches it.
        Node node = new Node(environment, List.of(Netty4Plugin.class), true) {};
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                closed.countDown();
            }
        }, "espipe-engine-shutdown"));
        node.start();
        int port = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress().getPort();
        System.out.println("HTTP Port: " + port);
        System.out.flush();
        closed.await();
    }
}
