//! The directory: GitLab's listings of users, groups, projects and members, as each caller sees
//! them.

use auditrelay_core::AccessLevel;
use auditrelay_core::Scope;
use auditrelay_service::access::{need, rules};
use auditrelay_service::directory::{GroupFilter, MemberFilter, ProjectFilter, UserFilter};
use auditrelay_service::{Caller, ServiceError};

use crate::{Backend, Cast, assert_refused};

#[tokio::test]
async fn groups_and_projects_are_listed_to_their_members_only() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, directory) = (cast.service().access(), cast.service().directory());
    let sub = cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let paths = |groups: Vec<auditrelay_service::directory::NamedGroup>| {
        let mut paths: Vec<String> = groups.into_iter().map(|g| g.group.full_path).collect();
        paths.sort();
        paths
    };
    let groups = async |caller: &Caller, filter: &GroupFilter| {
        paths(directory.list_groups(&access.scoped(caller).unwrap(), filter, None).await.unwrap())
    };
    let all = GroupFilter::default();
    assert_eq!(groups(cast.root(), &all).await, ["alpha", "alpha/sub", "beta"]);
    assert_eq!(groups(&cast.reporter, &all).await, ["alpha", "alpha/sub"]);
    assert_eq!(groups(&cast.other_owner, &all).await, ["beta"]);
    assert!(groups(&cast.outsider, &all).await.is_empty());
    let owned = GroupFilter { owned: true, ..Default::default() };
    assert!(groups(&cast.developer, &owned).await.is_empty());
    let as_owner = access.scoped(&cast.owner).unwrap();
    let under = directory.list_groups(&as_owner, &all, Some((&cast.alpha, true))).await.unwrap();
    assert_eq!(paths(under), ["alpha/sub"]);
    assert_eq!(directory.named_group(sub).await.unwrap().full_name, "alpha / sub");

    let projects = ProjectFilter::default();
    let seen = directory.list_projects(&access.scoped(&cast.developer).unwrap(), &projects, None).await.unwrap();
    assert_eq!(seen.iter().map(|(p, _)| p.full_path.as_str()).collect::<Vec<_>>(), ["alpha/app"]);
    let as_other = access.scoped(&cast.other_owner).unwrap();
    assert!(directory.list_projects(&as_other, &projects, None).await.unwrap().is_empty());
    let as_reporter = access.scoped(&cast.reporter).unwrap();
    let first = cast.service().identity().groups(&as_reporter, 0, 1).await.unwrap();
    assert_eq!(first.len(), 1, "offset and limit apply");
}

#[tokio::test]
async fn members_are_listed_with_inherited_ones_in_subgroups_and_projects() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, directory) = (cast.service().access(), cast.service().directory());
    cast.world.group(&cast.owner, "sub", Some(&cast.alpha)).await;
    let any = MemberFilter::default();
    let as_owner = access.group(&cast.owner, "alpha/sub").await.unwrap();
    assert_eq!(directory.list_members(&as_owner, &any).await.unwrap().len(), 1, "direct: the creator");
    let as_reporter = access.group(&cast.reporter, "alpha/sub").await.unwrap();
    let inherited = directory.group_all_members(&as_reporter, &any).await.unwrap();
    assert_eq!(inherited.len(), 4, "the owner once, and alpha's maintainer, developer and reporter");
    let developers = MemberFilter { query: Some("develop".into()), ..any.clone() };
    let found = directory.group_all_members(&as_owner, &developers).await.unwrap();
    assert_eq!(found.iter().map(|m| m.user.username.as_str()).collect::<Vec<_>>(), ["developer"]);
    let as_developer = access.project(&cast.developer, "alpha/app").await.unwrap();
    let in_project = directory.project_all_members(&as_developer, &any).await.unwrap();
    assert_eq!(in_project.len(), 4);
    let developer = in_project.iter().find(|m| m.user.id == cast.developer.user.id).unwrap();
    assert_eq!(developer.access_level, AccessLevel::Developer.value());
    assert_refused!(
        access.group::<rules::SeeGroup>(&cast.outsider, "alpha/sub").await,
        ServiceError::NotFound("Group")
    );
    assert_refused!(
        access.project::<rules::SeeProject>(&cast.other_owner, "alpha/app").await,
        ServiceError::NotFound("Project")
    );
}

#[tokio::test]
async fn users_are_listed_to_any_reader_and_need_a_read_scope() {
    let cast = Cast::new(Backend::Sqlite).await;
    let (access, directory) = (cast.service().access(), cast.service().directory());
    let by_name = UserFilter { username: Some("developer".into()), ..Default::default() };
    let found = directory.list_users(&access.scoped(&cast.outsider).unwrap(), &by_name).await.unwrap();
    assert_eq!(found.iter().map(|u| u.id).collect::<Vec<_>>(), [cast.developer.user.id]);
    let everyone = directory.list_users(&access.scoped(cast.root()).unwrap(), &UserFilter::default()).await.unwrap();
    assert_eq!(everyone.len(), 7, "root and the six of the cast");
    // Listing users and groups takes a reading token's proof.
    let ingest_only = cast.world.caller_of(cast.outsider.user.id, &["ingest_audit_events"]).await;
    assert_refused!(access.scoped::<need::Read>(&ingest_only), ServiceError::InsufficientScope(Scope::Api));
}
