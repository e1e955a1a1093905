//! The directory: GitLab's listings of users, groups, projects and members, as each caller sees
//! them.

use auditrelay_core::AccessLevel;
use auditrelay_core::Scope;
use auditrelay_service::ServiceError;
use auditrelay_service::directory::{GroupFilter, MemberFilter, ProjectFilter, UserFilter};

use crate::{Backend, Cast, assert_refused};

#[tokio::test]
async fn groups_and_projects_are_listed_to_their_members_only() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let sub = cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let paths = |groups: Vec<auditrelay_service::directory::NamedGroup>| {
        let mut paths: Vec<String> = groups.into_iter().map(|g| g.group.full_path).collect();
        paths.sort();
        paths
    };
    let all = GroupFilter::default();
    assert_eq!(paths(service.list_groups(cast.root(), &all, None).await.unwrap()), ["alpha", "alpha/sub", "beta"]);
    assert_eq!(paths(service.list_groups(&cast.reporter, &all, None).await.unwrap()), ["alpha", "alpha/sub"]);
    assert_eq!(paths(service.list_groups(&cast.other_owner, &all, None).await.unwrap()), ["beta"]);
    assert!(service.list_groups(&cast.outsider, &all, None).await.unwrap().is_empty());
    let owned = GroupFilter { owned: true, ..Default::default() };
    assert!(service.list_groups(&cast.developer, &owned, None).await.unwrap().is_empty());
    let under = service.list_groups(&cast.owner, &all, Some((&cast.alpha, true))).await.unwrap();
    assert_eq!(paths(under), ["alpha/sub"]);
    assert_eq!(service.named_group(sub).await.unwrap().full_name, "alpha / sub");

    let projects = ProjectFilter::default();
    let seen = service.list_projects(&cast.developer, &projects, None).await.unwrap();
    assert_eq!(seen.iter().map(|(p, _)| p.full_path.as_str()).collect::<Vec<_>>(), ["alpha/app"]);
    assert!(service.list_projects(&cast.other_owner, &projects, None).await.unwrap().is_empty());
    assert_eq!(service.groups(&cast.reporter, 0, 1).await.unwrap().len(), 1, "offset and limit apply");
}

#[tokio::test]
async fn members_are_listed_with_inherited_ones_in_subgroups_and_projects() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let sub = cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let any = MemberFilter::default();
    assert_eq!(service.list_members(&cast.owner, "alpha/sub", &any).await.unwrap().len(), 1, "direct: the creator");
    let inherited = service.group_all_members(&cast.reporter, "alpha/sub", &any).await.unwrap();
    assert_eq!(inherited.len(), 4, "the owner once, and alpha's maintainer, developer and reporter");
    let developers = MemberFilter { query: Some("develop".into()), ..any.clone() };
    let found = service.list_all_members(&cast.owner, &sub, &developers).await.unwrap();
    assert_eq!(found.iter().map(|m| m.user.username.as_str()).collect::<Vec<_>>(), ["developer"]);
    let in_project = service.project_all_members(&cast.developer, "alpha/app", &any).await.unwrap();
    assert_eq!(in_project.len(), 4);
    let developer = in_project.iter().find(|m| m.user.id == cast.developer.user.id).unwrap();
    assert_eq!(developer.access_level, AccessLevel::Developer.value());
    assert_refused!(
        service.group_all_members(&cast.outsider, "alpha/sub", &any).await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        service.project_all_members(&cast.other_owner, "alpha/app", &any).await,
        ServiceError::NotFound("Project")
    );
}

#[tokio::test]
async fn users_are_listed_to_any_reader_and_need_a_read_scope() {
    let cast = Cast::new(Backend::Sqlite).await;
    let service = cast.service();
    let by_name = UserFilter { username: Some("developer".into()), ..Default::default() };
    let found = service.list_users(&cast.outsider, &by_name).await.unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [cast.developer.user.id]);
    let everyone = service.list_users(cast.root(), &UserFilter::default()).await.unwrap();
    assert_eq!(everyone.len(), 7, "root and the six of the cast");
    let ingest_only = cast.world.caller_of(cast.outsider.user.id, &["ingest_audit_events"]).await;
    assert_refused!(
        service.list_users(&ingest_only, &UserFilter::default()).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
    assert_refused!(
        service.list_groups(&ingest_only, &GroupFilter::default(), None).await,
        ServiceError::InsufficientScope(Scope::Api)
    );
}
