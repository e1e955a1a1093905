-- AI agent workflows (GitLab's Duo Workflows): each belongs to one project and acts for the user
-- who created it. AI audit events are posted per workflow, which names their project and author.

CREATE TABLE ai_workflows (
    id @ID@,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    goal TEXT NOT NULL,
    workflow_definition TEXT NOT NULL,
    environment TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX ai_workflows_project ON ai_workflows (project_id);
