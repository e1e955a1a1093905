"""python-gitlab 8.x against auditrelay: what its users script, unchanged.

Run by scripts/python-gitlab.sh with the server's URL and the root token. Fails loudly.
"""

import sys

import gitlab

url, token = sys.argv[1], sys.argv[2]
gl = gitlab.Gitlab(url, private_token=token)

version, revision = gl.version()
assert version.startswith("18."), (version, revision)

for i in range(45):
    gl.groups.create({"name": f"Group {i:02}", "path": f"g{i:02}"})
# get_all follows Link rel="next" page after page (it stopped after 20 before).
groups = gl.groups.list(get_all=True)
assert len(groups) == 45, len(groups)
assert len({g.id for g in groups}) == 45
assert len(list(gl.groups.list(iterator=True, per_page=7))) == 45
assert [g.full_name for g in gl.groups.list(search="Group 07")] == ["Group 07"]
sub = gl.groups.create({"name": "Sub Team", "path": "sub", "parent_id": groups[0].id})
assert sub.full_name == "Group 00 / Sub Team", sub.full_name
assert [g.id for g in gl.groups.get(groups[0].id).subgroups.list(get_all=True)] == [sub.id]

for name in ["alice", "alicia", "bob"]:
    gl.users.create({"username": name, "name": name.title(), "email": f"{name}@example.com", "password": "password-123"})
# The common idiom: the first user of a username query is that user.
assert gl.users.list(username="alice")[0].username == "alice"
assert len(gl.users.list(search="ali", get_all=True)) == 2

for i in range(30):
    gl.projects.create({"name": f"p{i}", "namespace_id": groups[1].id})
assert len(gl.projects.list(get_all=True)) == 30
assert len(gl.groups.get(groups[1].id).projects.list(get_all=True)) == 30

# Audit events: every page, offset and keyset, with GitLab's integer ids and string details.
events = gl.audit_events.list(get_all=True)
assert len(events) >= 45 + 1 + 3 + 30, len(events)
assert all(isinstance(e.id, int) and isinstance(e.author_id, int) for e in events)
assert all(all(isinstance(v, (str, type(None))) for k, v in e.details.items() if k != "target_id") for e in events)
keyset = gl.audit_events.list(pagination="keyset", order_by="id", sort="desc", per_page=10, get_all=True)
assert [e.id for e in keyset] == sorted((e.id for e in events), reverse=True)
one = gl.audit_events.get(events[0].id)
assert one.id == events[0].id
group_events = gl.groups.get(groups[1].id).audit_events.list(get_all=True)
assert len(group_events) == 31, len(group_events)  # its creation and 30 projects

print(f"python-gitlab {gitlab.__version__}: {len(groups)} groups, {len(events)} audit events paged; ok")
