//! First start: create the `root` administrator and hand its credentials to the operator once.

use auditrelay_core::Scope;

use auditrelay_service::Service;
use auditrelay_service::identity::{CreateToken, CreateUser};
use auditrelay_service::secrets::{generate_token, random_string};

use crate::cli::ServeArgs;

pub const CREDENTIALS_FILE: &str = "initial_root_credentials";

/// Creates `root` if there are no users yet. Given values (from the environment) are used;
/// generated ones are printed once and written to `<data-dir>/initial_root_credentials`.
pub async fn ensure_root(service: &Service, args: &ServeArgs) -> anyhow::Result<()> {
    if service.store().count_users().await? > 0 {
        // Checked here too, so a restart does not make (and print) credentials it then drops.
        return Ok(());
    }
    let password_given = args.root_password.is_some();
    let token_given = args.root_token.is_some();
    let password = args.root_password.clone().unwrap_or_else(|| random_string(24));
    let token = args.root_token.clone().unwrap_or_else(generate_token);
    if token.trim().len() < 16 {
        anyhow::bail!("AUDITRELAY_ROOT_TOKEN must be at least 16 characters");
    }
    let root = CreateUser {
        username: "root".into(),
        name: "Administrator".into(),
        email: "admin@example.com".into(),
        password: password.clone(),
        admin: true,
    };
    let scopes = Scope::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let input = CreateToken { name: "initial root token".into(), scopes, expires_at: None };
    if service.identity().bootstrap_root(&root, &input, &token).await?.is_none() {
        // Another node sharing the database bootstrapped first.
        return Ok(());
    }

    let mut lines = vec!["Username: root".to_owned()];
    lines.push(if password_given {
        "Password: (from AUDITRELAY_ROOT_PASSWORD)".into()
    } else {
        format!("Password: {password}")
    });
    lines.push(if token_given { "Token: (from AUDITRELAY_ROOT_TOKEN)".into() } else { format!("Token: {token}") });
    let text = lines.join("\n") + "\n";
    auditrelay_service::files::write_private(&args.data_dir.join(CREDENTIALS_FILE), &text)?;
    if !(password_given && token_given) {
        println!(
            "Created user root. Initial credentials (shown once; also in {}):\n{text}",
            args.data_dir.join(CREDENTIALS_FILE).display()
        );
    }
    Ok(())
}
