-- The mock's state. One file (or :memory:) per server; several uvicorn workers share a file.
-- Times are ISO 8601 UTC strings ("2026-11-23T12:00:00.000000Z"), which sort as text.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,                      -- uuid
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    ai_data_processing_approved INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    api_token TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    app_urls TEXT NOT NULL DEFAULT '[]',
    test_account_filters TEXT NOT NULL DEFAULT '[]',
    primary_dashboard INTEGER,
    week_start_day INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Environments. The main environment of a project has the project's id.
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    api_token TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL,
    distinct_id TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL,
    is_email_verified INTEGER,
    role_at_organization TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    current_team_id INTEGER REFERENCES teams(id),
    date_joined TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users(id),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    level INTEGER NOT NULL,                   -- 1 member, 8 admin, 15 owner
    PRIMARY KEY (user_id, organization_id)
);

CREATE TABLE personal_api_keys (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    label TEXT NOT NULL,
    secure_value TEXT NOT NULL UNIQUE,        -- "sha256$<hex>" of the key; the key itself is not kept
    mask_value TEXT NOT NULL,
    scopes TEXT NOT NULL,                     -- JSON array
    scoped_teams TEXT,                        -- JSON array or NULL
    scoped_organizations TEXT,                -- JSON array or NULL
    created_at TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE sessions (
    secure_value TEXT PRIMARY KEY,            -- "sha256$<hex>" of the cookie value
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);

CREATE TABLE dashboards (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    creation_mode TEXT NOT NULL DEFAULT 'default',  -- default | template | duplicate | unlisted
    filters TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE insights (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    short_id TEXT NOT NULL,
    name TEXT,
    derived_name TEXT,
    description TEXT,
    query TEXT,                               -- JSON, NULL for legacy insights
    filters TEXT NOT NULL DEFAULT '{}',       -- JSON
    "order" INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    saved INTEGER NOT NULL DEFAULT 1,
    favorited INTEGER NOT NULL DEFAULT 0,
    is_sample INTEGER NOT NULL DEFAULT 0,
    created_at TEXT,
    created_by_id INTEGER REFERENCES users(id),
    updated_at TEXT NOT NULL,
    last_modified_at TEXT NOT NULL,
    last_modified_by_id INTEGER REFERENCES users(id),
    -- Written with the query, for the list filters: the `insight` kind (TRENDS, ..., SQL, JSON)
    -- and the events the query uses (JSON array).
    kind TEXT,
    events TEXT NOT NULL DEFAULT '[]',
    -- Written with each view: the latest view of the insight by anyone (list filter and ordering).
    last_viewed_at TEXT,
    UNIQUE (team_id, short_id)
);
-- The default ordering (the insight's `order`, rows without one last, newest first) as an index,
-- so a page is read in order instead of sorting the whole project.
CREATE INDEX insights_by_default_order ON insights (project_id, deleted, ("order" IS NULL), "order", id DESC);
CREATE INDEX insights_by_saved ON insights (project_id, deleted, saved);
CREATE INDEX insights_by_modified ON insights (project_id, deleted, last_modified_at);
CREATE INDEX insights_by_created ON insights (project_id, deleted, created_at);
CREATE INDEX insights_by_viewed ON insights (project_id, deleted, last_viewed_at);
CREATE INDEX insights_by_short_id ON insights (project_id, short_id);
CREATE INDEX insights_by_creator ON insights (project_id, created_by_id);
CREATE INDEX insights_by_kind ON insights (project_id, kind);

-- How many insights a project has, by deleted and saved: kept by triggers in the same transaction
-- as every write, so list pages count in constant time and the count is never stale.
CREATE TABLE insight_counts (
    project_id INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    saved INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project_id, deleted, saved)
);
CREATE TRIGGER insight_counted AFTER INSERT ON insights BEGIN
    INSERT INTO insight_counts VALUES (NEW.project_id, NEW.deleted, NEW.saved, 1)
        ON CONFLICT (project_id, deleted, saved) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER insight_uncounted AFTER DELETE ON insights BEGIN
    UPDATE insight_counts SET n = n - 1 WHERE project_id = OLD.project_id AND deleted = OLD.deleted AND saved = OLD.saved;
END;
CREATE TRIGGER insight_recounted AFTER UPDATE OF project_id, deleted, saved ON insights BEGIN
    UPDATE insight_counts SET n = n - 1 WHERE project_id = OLD.project_id AND deleted = OLD.deleted AND saved = OLD.saved;
    INSERT INTO insight_counts VALUES (NEW.project_id, NEW.deleted, NEW.saved, 1)
        ON CONFLICT (project_id, deleted, saved) DO UPDATE SET n = n + 1;
END;

CREATE TABLE insight_tags (
    insight_id INTEGER NOT NULL REFERENCES insights(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (insight_id, tag)
);
CREATE INDEX insight_tags_by_tag ON insight_tags (tag, insight_id);

CREATE TABLE dashboard_tiles (
    id INTEGER PRIMARY KEY,
    dashboard_id INTEGER NOT NULL REFERENCES dashboards(id),
    insight_id INTEGER NOT NULL REFERENCES insights(id),
    deleted INTEGER,                          -- NULL or 0: shown; 1: hidden
    color TEXT,
    layouts TEXT NOT NULL DEFAULT '{}',
    UNIQUE (dashboard_id, insight_id)
);
CREATE INDEX dashboard_tiles_by_insight ON dashboard_tiles (insight_id);

CREATE TABLE insight_views (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    insight_id INTEGER NOT NULL REFERENCES insights(id),
    last_viewed_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id, insight_id)
);
CREATE INDEX insight_views_by_insight ON insight_views (insight_id, last_viewed_at);
CREATE INDEX insight_views_by_time ON insight_views (last_viewed_at);
CREATE INDEX insight_views_by_user ON insight_views (team_id, user_id, last_viewed_at);

CREATE TABLE activity_log (
    seq INTEGER PRIMARY KEY,                  -- insertion order, the tie-break of newest-first
    id TEXT NOT NULL,                         -- uuid
    team_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    item_id TEXT NOT NULL,
    activity TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    detail TEXT NOT NULL,                     -- JSON
    created_at TEXT NOT NULL,
    was_impersonated INTEGER NOT NULL DEFAULT 0,
    is_system INTEGER NOT NULL DEFAULT 0,
    client TEXT
);
CREATE INDEX activity_by_project ON activity_log (project_id, scope, created_at);
CREATE INDEX activity_by_item ON activity_log (project_id, scope, item_id, created_at);

CREATE TABLE elements (
    id INTEGER PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    text TEXT,
    tag_name TEXT,
    attr_class TEXT,                          -- JSON array or NULL
    href TEXT,
    attr_id TEXT,
    nth_child INTEGER,
    nth_of_type INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    "order" INTEGER
);
CREATE INDEX elements_by_team ON elements (team_id, id);

-- Events and persons written to the store (seed files, tests). The demo projects' own stream is
-- not stored: mockserver/analytics/stream.py generates it (`meta.demo_streams` names the projects
-- that have one), and the analytics engine reads both. `meta.events_version` moves with every
-- write here, so the engine knows to read them again.
CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    distinct_id TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',    -- JSON
    created_at TEXT NOT NULL,
    UNIQUE (project_id, distinct_id)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    event TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    distinct_id TEXT NOT NULL,
    properties TEXT NOT NULL DEFAULT '{}',    -- JSON
    elements_chain TEXT                       -- JSON array of elements, clicked element first, or NULL
);

-- Computed query results, as PostHog's cache keeps them: the response of a run, by the environment
-- and the query's cache key (mockserver/analytics/caching.py). An insight and a /query/ call with
-- the same query share it; a changed query has a new key, so its old result is simply not found.
CREATE TABLE query_results (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    cache_key TEXT NOT NULL,
    response TEXT NOT NULL,                   -- JSON: the cached response, results included
    PRIMARY KEY (team_id, cache_key)
);
-- Runs started with an async refresh mode, for `GET /query/{id}/`.
CREATE TABLE query_runs (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    id TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    status TEXT NOT NULL,                     -- JSON: the QueryStatus answered when it started
    PRIMARY KEY (team_id, id)
);
