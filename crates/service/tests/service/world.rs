//! A service wired as `auditrelay serve` wires it (store → log writer → service), on a fresh
//! SQLite data dir or a fresh PostgreSQL database, with `root` made as bootstrap makes it, and
//! a cast of callers around two tenant groups.

use auditrelay_core::AccessLevel;
use auditrelay_delivery::{Engine, EngineConfig};
use auditrelay_service::Caller;
use auditrelay_service::Service;
use auditrelay_service::identity::{CreateGroup, CreateProject, CreateToken, CreateUser};
use auditrelay_service::secret_box::SecretBox;
use auditrelay_store::namespaces::{Group, Project};
use auditrelay_store::{LogWriter, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// Which store the service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// PostgreSQL when the environment offers it: always under `CI=true` (where a missing server
    /// fails the test, see `fresh_postgres_database`), else when `AUDITRELAY_TEST_POSTGRES_URL`
    /// names one. Otherwise the case is not run, and says so.
    pub fn postgres() -> Option<Backend> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        if ci || std::env::var_os("AUDITRELAY_TEST_POSTGRES_URL").is_some() {
            Some(Backend::Postgres)
        } else {
            eprintln!("NOT RUN on PostgreSQL: set AUDITRELAY_TEST_POSTGRES_URL (CI=true makes it required)");
            None
        }
    }
}

/// The running service of one test, removed with it.
pub struct World {
    pub service: Arc<Service>,
    /// The instance administrator, as bootstrap creates it (token with the `api` scope).
    pub root: Caller,
    dir: PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub const PASSWORD: &str = "password-123";

impl World {
    pub async fn new(backend: Backend) -> World {
        World::wired(backend, None).await
    }

    /// A world whose service runs the delivery engine with `config`, wired as `serve` wires it.
    pub async fn delivering(backend: Backend, config: EngineConfig) -> World {
        World::wired(backend, Some(config)).await
    }

    async fn wired(backend: Backend, engine: Option<EngineConfig>) -> World {
        let dir = std::env::temp_dir().join(format!("auditrelay-service-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("create the data dir");
        let store = match backend {
            Backend::Sqlite => Store::open_sqlite(&dir).await.expect("open SQLite"),
            Backend::Postgres => {
                let url = auditrelay_testkit::fresh_postgres_database().await;
                Store::open_postgres(&url).await.expect("open PostgreSQL")
            }
        };
        let (log, _writer) = LogWriter::start(store.clone()).await.expect("start the log writer");
        let secrets = SecretBox::from_key(&rand::random());
        let engine = engine.map(|config| Engine::new(store.clone(), log.head(), config));
        let service = Service::new(store, log, secrets);
        let service = Arc::new(match engine {
            Some(engine) => service.with_engine(engine),
            None => service,
        });
        let root = CreateUser {
            username: "root".into(),
            name: "Administrator".into(),
            email: "root@example.com".into(),
            password: PASSWORD.into(),
            admin: true,
        };
        let input = CreateToken { name: "bootstrap".into(), scopes: vec!["api".into()], expires_at: None };
        let token = auditrelay_service::secrets::generate_token();
        service.identity().bootstrap_root(&root, &input, &token).await.expect("bootstrap root").expect("no user yet");
        let root = service.auth().authenticate(&token, None).await.expect("root authenticates");
        World { service, root, dir }
    }

    /// The SQLite data dir (unused on PostgreSQL).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// A new user (made by root) and a caller for them with a token of `scopes`.
    pub async fn user(&self, username: &str, scopes: &[&str]) -> Caller {
        let input = CreateUser {
            username: username.into(),
            name: format!("{username} name"),
            email: format!("{username}@example.com"),
            password: PASSWORD.into(),
            admin: false,
        };
        let admin = self.service.access().admin(&self.root).expect("root is an admin");
        let user = self.service.identity().create_user(&admin, input).await.expect("create user");
        self.caller_of(user.id, scopes).await
    }

    /// Another token for an existing user.
    pub async fn caller_of(&self, user_id: auditrelay_core::UserId, scopes: &[&str]) -> Caller {
        let input = CreateToken {
            name: format!("token {}", scopes.join(" ")),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_at: None,
        };
        let admin = self.service.access().admin(&self.root).expect("root is an admin");
        let (_, plain) = self.service.identity().create_token(&admin, user_id, input).await.expect("create token");
        self.service.auth().authenticate(&plain, None).await.expect("authenticate")
    }

    pub async fn group(&self, owner: &Caller, path: &str, parent: Option<&Group>) -> Group {
        let input = CreateGroup { name: path.into(), path: path.into(), parent_id: parent.map(|g| g.id) };
        let scoped = self.service.access().scoped(owner).expect("a writing token");
        self.service.identity().create_group(&scoped, input).await.expect("create group")
    }

    pub async fn project(&self, maintainer: &Caller, group: &Group, path: &str) -> Project {
        let input = CreateProject { name: path.into(), path: path.into(), namespace_id: group.id };
        let scoped = self.service.access().scoped(maintainer).expect("a writing token");
        self.service.identity().create_project(&scoped, input).await.expect("create project").0
    }

    pub async fn member(&self, owner: &Caller, group: &Group, user: &Caller, level: AccessLevel) {
        let grant = self.service.access().group(owner, &group.id.to_string()).await.expect("an owner");
        self.service.identity().add_member(&grant, user.user.id, level.value()).await.expect("add member");
    }
}

/// Two tenants: group `alpha` (with project `alpha/app`) whose owner has a maintainer, a
/// developer and a reporter; group `beta` of another owner; and a user in no group.
pub struct Cast {
    pub world: World,
    pub owner: Caller,
    pub maintainer: Caller,
    pub developer: Caller,
    pub reporter: Caller,
    pub outsider: Caller,
    pub other_owner: Caller,
    pub alpha: Group,
    pub beta: Group,
    pub app: Project,
}

impl Cast {
    pub async fn new(backend: Backend) -> Cast {
        Cast::in_world(World::new(backend).await).await
    }

    /// The cast, in a world made otherwise (e.g. one running the delivery engine).
    pub async fn in_world(world: World) -> Cast {
        let owner = world.user("owner", &["api"]).await;
        let maintainer = world.user("maintainer", &["api"]).await;
        let developer = world.user("developer", &["api"]).await;
        let reporter = world.user("reporter", &["api"]).await;
        let outsider = world.user("outsider", &["api"]).await;
        let other_owner = world.user("other", &["api"]).await;
        let alpha = world.group(&owner, "alpha", None).await;
        let beta = world.group(&other_owner, "beta", None).await;
        world.member(&owner, &alpha, &maintainer, AccessLevel::Maintainer).await;
        world.member(&owner, &alpha, &developer, AccessLevel::Developer).await;
        world.member(&owner, &alpha, &reporter, AccessLevel::Reporter).await;
        let app = world.project(&maintainer, &alpha, "app").await;
        Cast { world, owner, maintainer, developer, reporter, outsider, other_owner, alpha, beta, app }
    }

    pub fn service(&self) -> &Service {
        &self.world.service
    }

    pub fn root(&self) -> &Caller {
        &self.world.root
    }
}

/// The types of every event in the log, oldest first (read as the admin).
pub async fn logged_types(world: &World) -> Vec<String> {
    use auditrelay_service::events::{EventQuery, Page};
    let page = Page::Offset { page: 1, per_page: 100 };
    let admin = world.service.access().admin(&world.root).expect("root is an admin");
    let read =
        world.service.events().instance_events(&admin, &EventQuery::default(), page).await.expect("read the log");
    let mut events = read.events;
    events.sort_by_key(|e| e.seq);
    events.into_iter().map(|e| e.event_type).collect()
}
