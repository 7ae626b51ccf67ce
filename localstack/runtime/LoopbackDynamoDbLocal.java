import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * DynamoDB Local (1.25.1) listening on 127.0.0.1 only. It has no option for the address: its
 * options are -port, -inMemory, -dbPath, -sharedDb, -cors, -delayTransientStatuses,
 * -disableTelemetry, -optimizeDbBeforeStartup, -help and -version, and DynamoDBProxyServer
 * builds its Jetty (9.4) server with {@code new Server(port)}, whose connector binds every
 * interface; no JVM or Jetty property changes that. So this takes DynamoDB Local's own
 * command-line parsing (ServerRunner.createServerFromCommandLineArgs, the same options), sets
 * the host of the Jetty connector before the server starts, and starts it.
 *
 * Compiled once by dynamodb-local.ts against DynamoDBLocal.jar and run with it on the class path.
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
  }
}
