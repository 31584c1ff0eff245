// Apache Iceberg's REST catalog on one address: the adapter and servlet of
// the apache/iceberg-rest-fixture image (RESTCatalogAdapter and
// RESTCatalogServlet from iceberg-core's tests jar, over a JdbcCatalog),
// served by Jetty on rest.host only. The fixture's RESTCatalogServer binds
// every interface (new Server(port)) and has no host setting; its /v1/config
// tells clients nothing about the object store.
//
// Run by scripts/iceberg.sh with the single-file source launcher:
//   java -cp 'LIB/*' scripts/iceberg/RestServer.java
// Configuration comes from the environment, as in the fixture: CATALOG_X
// becomes catalog property x (CATALOG_ dropped, "__" -> "-", "_" -> ".",
// lower case), so the S3 keys never show in the command line. Besides the
// catalog's own properties it reads rest.host (default 127.0.0.1) and
// rest.port (default 8181; 0 picks one).
//
// What clients get on top of the fixture's answers:
//   GET /v1/config   defaults = the catalog's s3.endpoint,
//                    s3.path-style-access, s3.force-virtual-addressing,
//                    s3.region and client.region
//   table loads      with include-credentials=true, the catalog's S3 keys in
//                    the response's config, as the fixture's
//                    RESTServerCatalogAdapter does (it is package-private, so
//                    this file cannot reuse it)
// so pyiceberg, iceberg-go or Iceberg Java write data files with nothing but
// the catalog's URI.

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.HTTPRequest;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.apache.iceberg.rest.RESTResponse;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.ErrorResponse;
import org.apache.iceberg.rest.responses.LoadTableResponse;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public class RestServer {
  private static final String ENV_PREFIX = "CATALOG_";
  // Where the objects are and how to address them: handed to every client.
  // Path style is said both ways: Iceberg Java and pyiceberg read
  // s3.path-style-access, iceberg-go reads s3.force-virtual-addressing.
  private static final List<String> CLIENT_DEFAULTS =
      List.of(
          "s3.endpoint",
          "s3.path-style-access",
          "s3.force-virtual-addressing",
          "s3.region",
          "client.region");
  // Handed out with table loads only when include-credentials is true.
  private static final List<String> CREDENTIALS =
      List.of("s3.access-key-id", "s3.secret-access-key", "s3.session-token");

  public static void main(String[] args) throws Exception {
    Map<String, String> props = environmentConfig();
    String host = props.getOrDefault("rest.host", "127.0.0.1");
    int port = Integer.parseInt(props.getOrDefault("rest.port", "8181"));
    // The fixture's defaults, except that its in-memory SQLite is left to the caller.
    props.putIfAbsent("catalog-impl", JdbcCatalog.class.getName());
    props.putIfAbsent("jdbc.schema-version", "V1");
    String name = props.getOrDefault("catalog.name", "rest_backend");
    // No Hadoop Configuration: JdbcCatalog with S3FileIO never needs one.
    Catalog catalog = CatalogUtil.buildIcebergCatalog(name, props, null);

    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new Adapter(catalog, props))), "/*");
    context.insertHandler(new GzipHandler());

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(context);
    server.setStopAtShutdown(true); // SIGTERM: stop Jetty, then exit
    server.start();
    System.err.printf(
        "iceberg REST catalog %s listening on http://%s:%d (warehouse %s)%n",
        name, host, connector.getLocalPort(), props.get("warehouse"));
    server.join();
  }

  // The fixture's RCKUtils.environmentCatalogConfig, which is package-private.
  private static Map<String, String> environmentConfig() {
    Map<String, String> props = new TreeMap<>();
    System.getenv().forEach((key, value) -> {
      if (key.startsWith(ENV_PREFIX)) {
        String prop = key.substring(ENV_PREFIX.length())
            .replace("__", "-").replace("_", ".").toLowerCase(Locale.ROOT);
        props.put(prop, value);
      }
    });
    return props;
  }

  // The fixture's adapter plus the client properties above. The servlet calls
  // this execute for every request; the routes themselves are package-private.
  static final class Adapter extends RESTCatalogAdapter {
    private final Map<String, String> defaults = new TreeMap<>();
    private final Map<String, String> credentials = new TreeMap<>();

    Adapter(Catalog catalog, Map<String, String> props) {
      super(catalog);
      for (String key : CLIENT_DEFAULTS) {
        if (props.containsKey(key)) defaults.put(key, props.get(key));
      }
      if (Boolean.parseBoolean(props.getOrDefault("include-credentials", "false"))) {
        for (String key : CREDENTIALS) {
          if (props.containsKey(key)) credentials.put(key, props.get(key));
        }
      }
    }

    @Override
    protected <T extends RESTResponse> T execute(
        HTTPRequest request,
        Class<T> responseType,
        Consumer<ErrorResponse> errorHandler,
        Consumer<Map<String, String>> responseHeaders) {
      T response = super.execute(request, responseType, errorHandler, responseHeaders);
      if (response instanceof ConfigResponse) {
        ConfigResponse config = (ConfigResponse) response;
        // A HashMap: the builder asks containsKey(null), which a TreeMap rejects.
        Map<String, String> merged = new HashMap<>(defaults);
        merged.putAll(config.defaults());
        ConfigResponse.Builder builder =
            ConfigResponse.builder().withDefaults(merged).withOverrides(config.overrides());
        if (config.endpoints() != null) builder.withEndpoints(config.endpoints());
        return responseType.cast(builder.build());
      }
      if (response instanceof LoadTableResponse && !credentials.isEmpty()) {
        LoadTableResponse table = (LoadTableResponse) response;
        return responseType.cast(
            LoadTableResponse.builder()
                .withTableMetadata(table.tableMetadata())
                .addAllConfig(table.config())
                .addAllConfig(credentials)
                .addAllCredentials(table.credentials())
                .build());
      }
      return response;
    }
  }
}
