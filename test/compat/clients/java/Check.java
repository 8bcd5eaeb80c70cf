// The compatibility scenario with the real sentry-java (io.sentry:sentry from Maven Central): args[0]
// is the DSN. Integer.parseInt fails two calls deep in the application (twice: one group), a
// division by zero fails elsewhere (another group), one message is captured; prints the event ids.
import io.sentry.Breadcrumb;
import io.sentry.Sentry;
import io.sentry.SentryLevel;
import io.sentry.protocol.User;
import java.util.ArrayList;
import java.util.List;

public final class Check {
  static int parsePort(String raw) {
    return Integer.parseInt(raw);
  }

  static int loadConfig(String raw) {
    return parsePort(raw);
  }

  static int divide(int a, int b) {
    return a / b;
  }

  static int ratio(int a) {
    return divide(a, 0);
  }

  public static void main(String[] args) {
    Sentry.init(options -> {
      options.setDsn(args[0]);
      options.setRelease("compat@1.2.3");
      options.setEnvironment("compat");
      options.setSendDefaultPii(true);
    });
    User user = new User();
    user.setId("u-42");
    user.setEmail("ada@example.com");
    user.setUsername("ada");
    Sentry.setUser(user);
    Sentry.setTag("feature", "checkout");
    Breadcrumb crumb = new Breadcrumb("loading config");
    crumb.setCategory("config");
    crumb.setLevel(SentryLevel.INFO);
    Sentry.addBreadcrumb(crumb);
    List<String> errors = new ArrayList<>();
    for (String raw : new String[] {"abc", "xyz"}) {
      try {
        loadConfig(raw);
      } catch (NumberFormatException e) {
        errors.add(Sentry.captureException(e).toString());
      }
    }
    String other = "";
    try {
      ratio(1);
    } catch (ArithmeticException e) {
      other = Sentry.captureException(e).toString();
    }
    String message = Sentry.captureMessage("compat message").toString();
    Sentry.flush(10_000);
    Sentry.close();
    System.out.println(
        "{\"errors\":[\"" + String.join("\",\"", errors) + "\"],\"other\":\"" + other + "\",\"message\":\"" + message + "\"}");
  }
}
