package io.github.multicloudkafka.secrets;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.provider.ConfigProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.protocols.jsoncore.JsonNode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueRequest;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;

/**
 * Resolves {@code ${secretsmanager:<secret>:<field>}} from a JSON secret of AWS Secrets Manager.
 *
 * <p>{@code <secret>} is the secret's name (Kafka's variable syntax allows no ':' in a path, so not its ARN),
 * optionally followed by {@code #<version id>} to read that version instead of the current one: a reference
 * that names its version changes when the secret is rotated, so the configuration holding it changes too and
 * the connector is updated with it. The secret's string must be a JSON object; {@code <field>} is one of its
 * keys, whose value (a string, number or boolean) replaces the variable.
 *
 * <p>Credentials come from the AWS SDK's default chain (on MSK Connect: the connector's service execution role).
 * Parameters ({@code config.providers.<alias>.param.<name>} in the worker configuration):
 *
 * <ul>
 *   <li>{@code region}: the Secrets Manager region; default: the SDK's default region chain.
 *   <li>{@code endpoint}: another Secrets Manager endpoint (a VPC endpoint's name, or a local stand-in in tests).
 * </ul>
 *
 * <p>Every failure is a {@link ConfigException} naming the secret and the field, never their values: a variable
 * Kafka could not resolve would otherwise stay in the configuration as text and fail later, far from its cause.
 */
public final class SecretsManagerConfigProvider implements ConfigProvider {
  public static final String REGION = "region";
  public static final String ENDPOINT = "endpoint";
  static final char VERSION_SEPARATOR = '#';

  private SecretsManagerClient client;

  @Override
  public void configure(Map<String, ?> configs) {
    SecretsManagerClientBuilder builder =
        SecretsManagerClient.builder()
            // Named, not looked up through ServiceLoader: Kafka Connect calls get() from its own threads,
            // whose context class loader need not be this plugin's.
            .httpClientBuilder(ApacheHttpClient.builder())
            .credentialsProvider(DefaultCredentialsProvider.create());
    Object region = configs.get(REGION);
    if (region != null && !region.toString().isBlank()) {
      builder.region(Region.of(region.toString().trim()));
    }
    Object endpoint = configs.get(ENDPOINT);
    if (endpoint != null && !endpoint.toString().isBlank()) {
      builder.endpointOverride(endpoint(endpoint.toString().trim()));
    }
    client = builder.build();
  }

  private static URI endpoint(String text) {
    try {
      URI uri = new URI(text);
      if (uri.getScheme() == null || uri.getHost() == null) {
        throw new ConfigException(ENDPOINT, text, "must be an absolute URL such as https://host:port");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new ConfigException(ENDPOINT, text, "is not a URL: " + e.getMessage());
    }
  }

  @Override
  public ConfigData get(String path) {
    return new ConfigData(fields(path));
  }

  @Override
  public ConfigData get(String path, Set<String> keys) {
    Map<String, String> all = fields(path);
    Map<String, String> wanted = new HashMap<>();
    Set<String> missing = new TreeSet<>();
    for (String key : keys) {
      String value = all.get(key);
      if (value == null) {
        missing.add(key);
      } else {
        wanted.put(key, value);
      }
    }
    if (!missing.isEmpty()) {
      throw new ConfigException(
          "secret " + path + " has no field " + String.join(", ", missing) + "; it has " + new TreeSet<>(all.keySet()));
    }
    return new ConfigData(wanted);
  }

  private Map<String, String> fields(String path) {
    if (client == null) {
      throw new IllegalStateException("configure() was not called");
    }
    if (path == null || path.isBlank()) {
      throw new ConfigException("a secretsmanager reference needs a secret: ${secretsmanager:<secret>:<field>}");
    }
    GetSecretValueRequest.Builder request = GetSecretValueRequest.builder();
    int at = path.indexOf(VERSION_SEPARATOR);
    if (at >= 0) {
      request.secretId(path.substring(0, at)).versionId(path.substring(at + 1));
    } else {
      request.secretId(path);
    }
    GetSecretValueResponse response;
    try {
      response = client.getSecretValue(request.build());
    } catch (SdkException e) {
      throw new ConfigException("could not read secret " + path + " from Secrets Manager: " + e.getMessage());
    }
    String text = response.secretString();
    if (text == null) {
      throw new ConfigException("secret " + path + " holds binary data, not a JSON object of fields");
    }
    JsonNode doc;
    try {
      doc = JsonNode.parser().parse(text);
    } catch (RuntimeException e) {
      throw new ConfigException("secret " + path + " is not JSON (its value is not shown)");
    }
    if (!doc.isObject()) {
      throw new ConfigException("secret " + path + " is not a JSON object of fields");
    }
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, JsonNode> field : doc.asObject().entrySet()) {
      JsonNode value = field.getValue();
      if (value.isString() || value.isNumber()) {
        out.put(field.getKey(), value.text());
      } else if (value.isBoolean()) {
        out.put(field.getKey(), Boolean.toString(value.asBoolean()));
      } else {
        throw new ConfigException("field " + field.getKey() + " of secret " + path + " is not a string, number or boolean");
      }
    }
    return out;
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
      client = null;
    }
  }
}
