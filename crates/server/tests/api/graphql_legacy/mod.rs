//! GitLab's legacy HTTP destination API over GraphQL: destinations, headers, event-type and
//! namespace filters (group and instance), one model shared with the consolidated API, and
//! authorization of every operation.

mod authorization;
mod destinations;
mod headers_filters;
mod model_instance;

use auditrelay_testkit::{Api, Reply};
use serde_json::{Value, json};

const CREATE: &str = "mutation($url: String!, $group: ID!, $name: String, $token: String) {
  externalAuditEventDestinationCreate(input: { destinationUrl: $url, groupPath: $group, name: $name, verificationToken: $token }) {
    errors
    externalAuditEventDestination { id name destinationUrl verificationToken active eventTypeFilters group { fullPath } }
  }
}";

const LIST: &str = "query($group: ID!) {
  group(fullPath: $group) {
    externalAuditEventDestinations {
      nodes { id name destinationUrl verificationToken active eventTypeFilters
              headers { nodes { id key value active } }
              namespaceFilter { id namespace { id fullPath } } }
    }
  }
}";

fn top_level_error(reply: &Reply) -> String {
    reply.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a top-level error: {}", reply.text))
        .to_owned()
}

async fn create(api: &Api, url: &str) -> Value {
    let reply = api.graphql(CREATE, json!({"url": url, "group": "acme"})).await.expect(200);
    assert_eq!(reply.body["data"]["externalAuditEventDestinationCreate"]["errors"], json!([]), "{}", reply.text);
    reply.body["data"]["externalAuditEventDestinationCreate"]["externalAuditEventDestination"].clone()
}
