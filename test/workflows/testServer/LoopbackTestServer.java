import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.TestServicesStarter;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * The Java SDK's test server, bound to 127.0.0.1: its own main listens on every interface. Arguments as that main
 * takes them (a port, then optionally --enable-time-skipping), which is how the TypeScript SDK's
 * TestWorkflowEnvironment starts an existing test-server executable.
 */
public final class LoopbackTestServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    boolean timeSkipping = Arrays.asList(args).contains("--enable-time-skipping");
    // Locked unless asked for: the SDK unlocks time skipping itself while a test waits on a result.
    TestServicesStarter services = new TestServicesStarter(!timeSkipping, 0);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
    services.getServices().forEach(builder::addService);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.awaitTermination();
  }
}
